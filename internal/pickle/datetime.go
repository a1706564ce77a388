package pickle

import (
	"fmt"
	"time"
)

// datetimeCall reconstructs the datetime module's values from their pickled
// state: datetime and date are time.Time (naive ones in UTC, with no
// offset applied), timedelta is time.Duration, timezone a fixed zone.
func datetimeCall(name string, args []any) (any, error) {
	switch name {
	case "datetime", "date":
		if len(args) < 1 {
			return nil, fmt.Errorf("datetime.%s() without state", name)
		}
		b, ok := args[0].([]byte)
		if !ok {
			if s, isStr := args[0].(string); isStr { // protocol 0-2 write the state as a latin1 str
				var err error
				if b, err = bytesArg(s); err != nil {
					return nil, err
				}
			} else {
				return nil, fmt.Errorf("datetime.%s() of %T", name, args[0])
			}
		}
		want := 10
		if name == "date" {
			want = 4
		}
		if len(b) != want {
			return nil, fmt.Errorf("datetime.%s state of %d bytes, want %d", name, len(b), want)
		}
		year, month, day := int(b[0])<<8|int(b[1]), int(b[2]&0x7f), int(b[3])
		if month < 1 || month > 12 || day < 1 || day > 31 {
			return nil, fmt.Errorf("datetime.%s: %d-%d-%d is not a date", name, year, month, day)
		}
		if name == "date" {
			return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), nil
		}
		hour, min, sec := int(b[4]), int(b[5]), int(b[6])
		us := int(b[7])<<16 | int(b[8])<<8 | int(b[9])
		if hour > 23 || min > 59 || sec > 59 || us > 999999 {
			return nil, fmt.Errorf("datetime.datetime: %02d:%02d:%02d.%06d is not a time", hour, min, sec, us)
		}
		loc := time.UTC
		if len(args) > 1 && args[1] != nil {
			z, ok := args[1].(*time.Location)
			if !ok {
				return nil, fmt.Errorf("datetime.datetime tzinfo %T: only datetime.timezone is read", args[1])
			}
			loc = z
		}
		return time.Date(year, time.Month(month), day, hour, min, sec, us*1000, loc), nil
	case "timedelta":
		if len(args) != 3 {
			return nil, fmt.Errorf("datetime.timedelta() takes 3 arguments, got %d", len(args))
		}
		var n [3]int
		for i, a := range args {
			v, ok := a.(int)
			if !ok {
				return nil, fmt.Errorf("datetime.timedelta() of %T", a)
			}
			n[i] = v
		}
		const maxDays = 106751 // time.Duration's range
		if n[0] > maxDays || n[0] < -maxDays {
			return nil, fmt.Errorf("datetime.timedelta of %d days is beyond time.Duration", n[0])
		}
		return time.Duration(n[0])*24*time.Hour + time.Duration(n[1])*time.Second + time.Duration(n[2])*time.Microsecond, nil
	case "timezone":
		if len(args) < 1 {
			return nil, fmt.Errorf("datetime.timezone() without an offset")
		}
		off, ok := args[0].(time.Duration)
		if !ok {
			return nil, fmt.Errorf("datetime.timezone() of %T", args[0])
		}
		name := ""
		if len(args) > 1 {
			name, _ = args[1].(string)
		}
		if name == "" {
			name = fmt.Sprintf("UTC%+03d:%02d", int(off.Hours()), int(off.Minutes())%60)
		}
		return time.FixedZone(name, int(off.Seconds())), nil
	}
	return nil, fmt.Errorf("datetime.%s is not read", name)
}
