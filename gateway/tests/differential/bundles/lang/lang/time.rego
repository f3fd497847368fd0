package lang.time

# Time builtins on fixed instants (never the clock).
ns := time.parse_rfc3339_ns(input.at)

date := time.date(ns)

clock := time.clock(ns)

weekday := time.weekday(ns)

next_month := time.add_date(ns, 0, 1, 0)

parsed := time.parse_ns("2006-01-02", input.day)

duration := time.parse_duration_ns(input.duration)

diff := time.diff(ns, parsed)

zoned := time.date([ns, "America/New_York"])

formatted := time.format([ns, "UTC", "2006-01-02T15:04:05Z07:00"])
