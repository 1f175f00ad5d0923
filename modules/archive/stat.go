package archive

import "golang.org/x/sys/unix"

// mtime returns the modification time of st.
func mtime(st *unix.Stat_t) (sec, nsec int64) { return int64(st.Mtim.Sec), int64(st.Mtim.Nsec) }
