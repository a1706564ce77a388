package pickle

import (
	"fmt"
	"math"
	"time"
	_ "time/tzdata" // time zones by name (pytz, zoneinfo) read the same on every machine
)

// tzInfo is a Python tzinfo: its zone, and for a pytz zone pickled with
// the offset in force (pytz._p(zone, utcoffset, dst, tzname)), that fixed
// offset, which is what a datetime carrying it means.
type tzInfo struct {
	loc   *time.Location
	fixed *time.Location
}

// utcAware is an aware UTC zone (pytz.utc, timezone.utc), kept apart from
// time.UTC, which marks naive values.
var utcAware = time.FixedZone("UTC", 0)

// datetimeCall reconstructs the datetime module's values from their pickled
// state: datetime and date are time.Time (naive ones in UTC, with no
// offset applied), timedelta is time.Duration, timezone a fixed zone.
func datetimeCall(m *machine, name string, args []any) (any, error) {
	switch name {
	case "datetime", "date":
		if len(args) < 1 || len(args) > 2 || (name == "date" && len(args) != 1) {
			return nil, fmt.Errorf("%s() takes its state here, got %d arguments", name, len(args))
		}
		b, ok := args[0].([]byte)
		if !ok {
			s, isStr := args[0].(string) // a Python 2 state: a str, read as latin-1 by Python 3
			if !isStr {
				return nil, fmt.Errorf("%s() of a %s", name, TypeName(args[0]))
			}
			var err error
			if b, err = latin1(s); err != nil {
				return nil, err
			}
		}
		want := 10
		if name == "date" {
			want = 4
		}
		if len(b) != want {
			return nil, fmt.Errorf("%s state of %d bytes, want %d", name, len(b), want)
		}
		year, month, day := int(b[0])<<8|int(b[1]), int(b[2]&0x7f), int(b[3])
		if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
			return nil, fmt.Errorf("%s: %04d-%02d-%02d is not a date", name, year, month, day)
		}
		if name == "date" {
			return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), nil
		}
		hour, min, sec := int(b[4]), int(b[5]), int(b[6])
		us := int(b[7])<<16 | int(b[8])<<8 | int(b[9])
		if hour > 23 || min > 59 || sec > 59 || us > 999999 {
			return nil, fmt.Errorf("datetime: %02d:%02d:%02d.%06d is not a time", hour, min, sec, us)
		}
		if len(args) < 2 || args[1] == nil {
			return time.Date(year, time.Month(month), day, hour, min, sec, us*1000, time.UTC), nil
		}
		tz, ok := args[1].(*tzInfo)
		if !ok {
			return nil, fmt.Errorf("datetime tzinfo is a %s: only datetime.timezone, pytz and zoneinfo zones are read", TypeName(args[1]))
		}
		if tz.fixed != nil {
			return time.Date(year, time.Month(month), day, hour, min, sec, us*1000, tz.fixed).In(tz.loc), nil
		}
		return time.Date(year, time.Month(month), day, hour, min, sec, us*1000, tz.loc), nil
	case "timedelta":
		if len(args) != 3 {
			return nil, fmt.Errorf("timedelta() takes 3 arguments, got %d", len(args))
		}
		var n [3]int64
		for i, a := range args {
			v, ok := a.(int64)
			if !ok {
				return nil, fmt.Errorf("timedelta() of a %s", TypeName(a))
			}
			n[i] = v
		}
		return duration(n[0], n[1], n[2])
	case "timezone":
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("timezone() takes 1 or 2 arguments, got %d", len(args))
		}
		off, ok := args[0].(time.Duration)
		if !ok || off <= -24*time.Hour || off >= 24*time.Hour || off%time.Microsecond != 0 {
			return nil, fmt.Errorf("timezone() of %s: want a timedelta strictly within a day", repr(args[0]))
		}
		zone := ""
		if len(args) > 1 {
			if zone, ok = args[1].(string); !ok {
				return nil, fmt.Errorf("timezone() name is a %s", TypeName(args[1]))
			}
		}
		if zone == "" && off == 0 {
			return &tzInfo{loc: utcAware}, nil
		}
		if zone == "" {
			sign, a := '+', off
			if off < 0 {
				sign, a = '-', -off
			}
			zone = fmt.Sprintf("UTC%c%02d:%02d", sign, int(a/time.Hour), int(a%time.Hour/time.Minute))
			if s := a % time.Minute; s != 0 {
				zone += fmt.Sprintf(":%02d", int(s/time.Second))
			}
		}
		return &tzInfo{loc: time.FixedZone(zone, int(off/time.Second))}, nil
	}
	return nil, fmt.Errorf("datetime.%s is not read", name)
}

// duration is timedelta(days, seconds, microseconds) as a time.Duration.
func duration(days, secs, us int64) (time.Duration, error) {
	const maxDays = math.MaxInt64 / int64(24*time.Hour)
	if days > maxDays || days < -maxDays || secs > 1<<40 || secs < -(1<<40) || us > 1<<50 || us < -(1<<50) {
		return 0, fmt.Errorf("timedelta(%d, %d, %d) is beyond time.Duration's ±292 years", days, secs, us)
	}
	d := time.Duration(days) * 24 * time.Hour
	rest := time.Duration(secs)*time.Second + time.Duration(us)*time.Microsecond
	if (rest > 0 && d > math.MaxInt64-rest) || (rest < 0 && d < math.MinInt64-rest) {
		return 0, fmt.Errorf("timedelta(%d, %d, %d) is beyond time.Duration's ±292 years", days, secs, us)
	}
	return d + rest, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// zone loads a time zone by its IANA name (from the tzdata embedded in the
// binary when the system has none).
func zone(name string) (*time.Location, error) {
	if name == "UTC" {
		return utcAware, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %s is not known", repr(name))
	}
	return loc, nil
}

// pytzCall is pytz's _p(zone[, utcoffset, dstoffset, tzname]), _UTC()
// and FixedOffset(minutes).
func pytzCall(name string, args []any) (any, error) {
	switch name {
	case "_UTC":
		if len(args) != 0 {
			return nil, fmt.Errorf("_UTC() takes no arguments")
		}
		return &tzInfo{loc: utcAware}, nil
	case "FixedOffset":
		n, ok := arg(args, 0).(int64)
		if len(args) != 1 || !ok || n <= -24*60 || n >= 24*60 {
			return nil, fmt.Errorf("FixedOffset(%s): want minutes within a day", repr(arg(args, 0)))
		}
		if n == 0 {
			return &tzInfo{loc: utcAware}, nil
		}
		return &tzInfo{loc: time.FixedZone(fmt.Sprintf("pytz.FixedOffset(%d)", n), int(n)*60)}, nil
	}
	if len(args) != 1 && len(args) != 4 {
		return nil, fmt.Errorf("_p takes 1 or 4 arguments, got %d", len(args))
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("_p zone is a %s", TypeName(args[0]))
	}
	loc, err := zone(name)
	if err != nil {
		return nil, err
	}
	tz := &tzInfo{loc: loc}
	if len(args) == 4 {
		off, ok := args[1].(int64)
		abbr, ok2 := args[3].(string)
		if !ok || !ok2 || off <= -86400 || off >= 86400 {
			return nil, fmt.Errorf("_p(%s, %s, %s, %s): want an offset in seconds and a name", repr(name), repr(args[1]), repr(args[2]), repr(args[3]))
		}
		tz.fixed = time.FixedZone(abbr, int(off))
	}
	return tz, nil
}

// zoneinfoCall is zoneinfo.ZoneInfo._unpickle(key, from_cache).
func zoneinfoCall(args []any) (any, error) {
	name, ok := arg(args, 0).(string)
	if len(args) != 2 || !ok {
		return nil, fmt.Errorf("ZoneInfo._unpickle takes (key, from_cache)")
	}
	loc, err := zone(name)
	if err != nil {
		return nil, err
	}
	return &tzInfo{loc: loc}, nil
}

// arg is args[i], or nil.
func arg(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}
