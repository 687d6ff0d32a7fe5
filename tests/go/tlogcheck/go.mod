module seqprov.invalid/tlogcheck

go 1.19

require golang.org/x/mod v0.0.0

// Debian's golang-golang-x-mod-dev: the reference sumdb/note and sumdb/tlog, built offline.
replace golang.org/x/mod => /usr/share/gocode/src/golang.org/x/mod
