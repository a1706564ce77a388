package exchange

import (
	"fmt"
	"strings"
)

// HiveNull is the directory value Hive, Spark and DuckDB write for a NULL
// partition value.
const HiveNull = "__HIVE_DEFAULT_PARTITION__"

// hiveDir is the directory name key=value of a partition, as DuckDB's
// PARTITION_BY writes it and its hive_partitioning reads it back: every
// byte other than an ASCII letter, digit, '.', '_' or '-' is written %XX
// (upper-case hex), NULL is HiveNull, and a value that is literally
// HiveNull has its first '_' escaped so that it does not read back as NULL.
func hiveDir(key string, value *string) string {
	if value == nil {
		return key + "=" + HiveNull
	}
	v := escape(*value)
	if *value == HiveNull {
		v = "%5F" + v[1:]
	}
	return key + "=" + v
}

// escape percent-encodes every byte of s outside [A-Za-z0-9._-].
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
