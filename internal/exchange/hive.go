package exchange

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// HiveNull is the directory value Hive, Spark and DuckDB write for a NULL
// partition value.
const HiveNull = "__HIVE_DEFAULT_PARTITION__"

// MaxDirBytes is the longest partition folder name, key=value encoded,
// that holds the value itself. File systems refuse names above 255 bytes
// and a value's encoding is up to 3 bytes a byte (a run id of 90 × 'é' is
// 540); a longer name is hashed (see hiveDir).
const MaxDirBytes = 200

// HashedPrefix begins the value of a partition folder named by a hash of
// the value rather than by the value. No encoded value begins with it: a
// value that does has its first '_' escaped.
const HashedPrefix = "__hash_"

// hiveDir is the directory name key=value of a partition, as DuckDB's
// PARTITION_BY writes it and its hive_partitioning reads it back: every
// byte other than an ASCII letter, digit, '.', '_' or '-' is written %XX
// (upper-case hex), NULL is HiveNull, and a value that is literally
// HiveNull, or begins with HashedPrefix, has its first '_' escaped so that
// it does not read back as NULL or as a hashed name.
//
// When that name is longer than MaxDirBytes it is key=HashedPrefix
// followed by the first 16 hex digits of the sha256 of the value's bytes
// (run_id=__hash_0123456789abcdef): the folder name is then not the value,
// which the files' own column and the manifest hold.
func hiveDir(key string, value *string) string {
	if value == nil {
		return key + "=" + HiveNull
	}
	v := escape(*value)
	if *value == HiveNull || strings.HasPrefix(*value, HashedPrefix) {
		v = "%5F" + v[1:]
	}
	if d := key + "=" + v; len(d) <= MaxDirBytes {
		return d
	}
	sum := sha256.Sum256([]byte(*value))
	return key + "=" + HashedPrefix + hex.EncodeToString(sum[:8])
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
