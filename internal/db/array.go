package db

import "strconv"

// Int64Array writes a PostgreSQL array literal of integers, for set-based statements that
// take a whole batch as one parameter (`= ANY(?::bigint[])`, `unnest(?::bigint[])`).
func Int64Array(xs []int64) string { return intArray(xs) }

// IntArray is Int64Array for int.
func IntArray(xs []int) string { return intArray(xs) }

func intArray[T int | int64](xs []T) string {
	b := make([]byte, 0, len(xs)*8+2)
	b = append(b, '{')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return string(append(b, '}'))
}
