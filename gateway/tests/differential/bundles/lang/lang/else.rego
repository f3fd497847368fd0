package lang.elses

# else chains, defaults and default functions.
default level := "unknown"

level := "child" if input.age < 13
else := "teen" if input.age < 20
else := "adult" if input.age < 65
else := "senior"

default allow := false

allow if input.role == "admin"

grade(score) := "A" if score >= 90
else := "B" if score >= 80
else := "C"

grades := [grade(s) | some s in input.scores]

default maybe(_) := "fallback"

maybe(x) := "big" if x > 100

maybes := [maybe(x) | some x in input.xs]
