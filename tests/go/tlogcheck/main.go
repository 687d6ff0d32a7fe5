// Command tlogcheck is seqprov's independent log checker (spec/log.md, issue 14): it
// checks a seqprov transparency log and its tlog-proof@v1 receipts with Go's reference
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, sharing no code with the
// Rust implementation. The C2SP tile paths, the entry bundles, the receipt grammar and
// the cosignature/v1 verifier are written here from the C2SP texts.
//
// Usage:
//
//	tlogcheck -log DIR -vkey VKEY [-witness VKEY]... [-quorum N] [-old CHECKPOINT]...
//	          [-witness-request BODY]... [RECEIPT ENTRY]...
//	tlogcheck -vectors spec/vectors/log/checkpoints.json
//
// DIR is a log directory (with public/) or a copy of its public/ directory. It checks:
// the checkpoint (note.Open, the log's own signature, the witness quorum), the root
// recomputed from the hash tiles (tlog.TreeHash), every full tile against its parent,
// every entry bundle against the level-0 hashes, consistency of each older checkpoint
// (tlog.ProveTree, tlog.CheckTree), each add-checkpoint body's consistency proof, and
// each receipt (tlog.CheckRecord of SHA-256(0x00 || entry), and its tree against the
// log's). Exit status: 0 everything verified, 1 a check failed, 2 usage or I/O error.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	tileHeight     = 8
	tileWidth      = 256
	maxCheckpoint  = 16 * 1024
	maxProof       = 65536
	maxProofHashes = 64
)

// checkFailed marks a verification failure (exit 1), as opposed to usage or I/O (exit 2).
type checkFailed struct{ msg string }

func (e *checkFailed) Error() string { return e.msg }

func failf(format string, args ...interface{}) error {
	return &checkFailed{fmt.Sprintf(format, args...)}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	logDir := flag.String("log", "", "log directory or a copy of its public/ directory")
	vkey := flag.String("vkey", "", "the log's verifier key")
	var witnessKeys, oldCheckpoints, witnessRequests multiFlag
	flag.Var(&witnessKeys, "witness", "a trusted witness vkey (type 0x04), repeatable")
	flag.Var(&oldCheckpoints, "old", "an earlier checkpoint file the log must be consistent with, repeatable")
	flag.Var(&witnessRequests, "witness-request", "a tlog-witness add-checkpoint body made by the log (old size, consistency proof, checkpoint), repeatable")
	quorum := flag.Int("quorum", 0, "cosignatures by distinct trusted witnesses required on every checkpoint")
	vectors := flag.String("vectors", "", "check spec/vectors/log/checkpoints.json with note.Open instead of a log")
	flag.Parse()
	if *vectors != "" {
		if err := checkVectors(*vectors); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			os.Exit(1)
		}
		fmt.Println("OK")
		return
	}
	if *logDir == "" || *vkey == "" || flag.NArg()%2 != 0 {
		fmt.Fprintln(os.Stderr, "usage: tlogcheck -log DIR -vkey VKEY [-witness VKEY]... [-quorum N] [-old CHECKPOINT]... [RECEIPT ENTRY]...")
		os.Exit(2)
	}
	err := run(*logDir, *vkey, witnessKeys, *quorum, oldCheckpoints, witnessRequests, flag.Args())
	if err != nil {
		var failed *checkFailed
		if errors.As(err, &failed) {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	fmt.Println("OK")
}

func run(logDir, vkey string, witnessKeys []string, quorum int, oldCheckpoints, witnessRequests, pairs []string) error {
	logVerifier, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("log vkey: %v", err)
	}
	verifiers := []note.Verifier{logVerifier}
	for _, w := range witnessKeys {
		v, err := newCosignatureVerifier(w)
		if err != nil {
			return fmt.Errorf("witness vkey %q: %v", w, err)
		}
		verifiers = append(verifiers, v)
	}
	known := note.VerifierList(verifiers...)
	checker := &checker{logVerifier: logVerifier, known: known, quorum: quorum}

	public := logDir
	if _, err := os.Stat(filepath.Join(logDir, "public", "checkpoint")); err == nil {
		public = filepath.Join(logDir, "public")
	}
	cpBytes, err := readBounded(filepath.Join(public, "checkpoint"), maxCheckpoint)
	if err != nil {
		return err
	}
	tree, err := checker.openCheckpoint(cpBytes)
	if err != nil {
		return fmt.Errorf("%w", wrapFail("checkpoint", err))
	}
	fmt.Printf("checkpoint: size %d root %s\n", tree.N, tree.Hash)

	tiles := &tileReader{public: public, size: tree.N, cache: map[[2]int64][]byte{}}
	reader := tlog.HashReaderFunc(tiles.ReadHashes)
	if tree.N > 0 {
		root, err := tlog.TreeHash(tree.N, reader)
		if err != nil {
			return failf("recomputing the root from the tiles: %v", err)
		}
		if root != tree.Hash {
			return failf("the tiles hash to %s, the checkpoint says %s", root, tree.Hash)
		}
	} else if tree.Hash != tlog.Hash(sha256.Sum256(nil)) {
		return failf("an empty tree with root %s", tree.Hash)
	}
	fmt.Printf("tiles: root recomputed with tlog.TreeHash\n")
	// TreeHash used the partial tiles at the right edge and the top tiles; every full tile
	// below must hash to its entry in the tile above. (tlog.TileHashReader is not used:
	// in Debian's x/mod its full-tile check starts at len(stx) while its tile list is
	// deduplicated, so it can skip an altered full tile.)
	if err := authenticateFullTiles(tree.N, tiles, reader); err != nil {
		return err
	}
	fmt.Printf("tiles: every full tile hashes to its parent\n")
	if err := checkEntryBundles(public, tree.N, reader); err != nil {
		return err
	}
	fmt.Printf("entries: %d entry hashes match the level-0 tiles\n", tree.N)

	for _, old := range oldCheckpoints {
		oldBytes, err := readBounded(old, maxCheckpoint)
		if err != nil {
			return err
		}
		oldTree, err := checker.openCheckpoint(oldBytes)
		if err != nil {
			return wrapFail(old, err)
		}
		if err := consistent(oldTree, tree, reader); err != nil {
			return wrapFail(old, err)
		}
		fmt.Printf("%s: size %d is consistent with size %d\n", old, oldTree.N, tree.N)
	}

	for _, path := range witnessRequests {
		body, err := readBounded(path, 32+63*45+1+maxCheckpoint)
		if err != nil {
			return err
		}
		if err := checkWitnessRequest(body, checker, tree, reader); err != nil {
			return wrapFail(path, err)
		}
		fmt.Printf("%s: the log's consistency proof verifies with tlog.CheckTree and equals tlog.ProveTree's\n", path)
	}

	for i := 0; i < len(pairs); i += 2 {
		if err := checker.checkReceipt(pairs[i], pairs[i+1], tree, reader); err != nil {
			return wrapFail(pairs[i], err)
		}
	}
	return nil
}

func wrapFail(what string, err error) error {
	var failed *checkFailed
	if errors.As(err, &failed) {
		return failf("%s: %s", what, failed.msg)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.Size() > limit {
		return nil, failf("%s: %d bytes, over the limit of %d", path, info.Size(), limit)
	}
	buf := make([]byte, info.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

type checker struct {
	logVerifier note.Verifier
	known       note.Verifiers
	quorum      int
}

// openCheckpoint verifies a checkpoint note with note.Open: it must carry the log's
// signature (note.Open also accepts a note signed by a witness alone), the quorum of
// trusted cosignatures, and have exactly the three lines origin, size, root.
func (c *checker) openCheckpoint(msg []byte) (tlog.Tree, error) {
	n, err := note.Open(msg, c.known)
	if err != nil {
		return tlog.Tree{}, failf("note.Open: %v", err)
	}
	logSigned := false
	witnesses := map[string]bool{}
	for _, sig := range n.Sigs {
		if sig.Name == c.logVerifier.Name() && sig.Hash == c.logVerifier.KeyHash() {
			logSigned = true
		} else {
			witnesses[witnessKey(c.known, sig)] = true
		}
	}
	if !logSigned {
		return tlog.Tree{}, failf("not signed by the log key")
	}
	if len(witnesses) < c.quorum {
		return tlog.Tree{}, failf("%d trusted cosignatures, %d required", len(witnesses), c.quorum)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return tlog.Tree{}, failf("the checkpoint text is not exactly origin, size, root")
	}
	if lines[0] != c.logVerifier.Name() {
		return tlog.Tree{}, failf("origin %q is not the log's", lines[0])
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return tlog.Tree{}, failf("bad size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return tlog.Tree{}, failf("bad root %q", lines[2])
	}
	return tlog.Tree{N: size, Hash: root}, nil
}

// consistent proves old ⊑ current with tlog.ProveTree from the tiles and checks the
// proof with tlog.CheckTree against both checkpoints' roots.
func consistent(old, current tlog.Tree, reader tlog.HashReader) error {
	if old.N > current.N {
		return failf("size %d is past the log's %d (rollback)", old.N, current.N)
	}
	if old.N == 0 {
		return nil
	}
	proof, err := tlog.ProveTree(current.N, old.N, reader)
	if err != nil {
		return failf("tlog.ProveTree: %v", err)
	}
	if err := tlog.CheckTree(proof, current.N, current.Hash, old.N, old.Hash); err != nil {
		return failf("tlog.CheckTree: %v (a fork)", err)
	}
	return nil
}

// checkReceipt parses a tlog-proof@v1 receipt, opens its checkpoint, checks the
// inclusion of SHA-256(0x00 || entry) with tlog.CheckRecord, and the receipt's tree
// against the log's.
func (c *checker) checkReceipt(receiptPath, entryPath string, current tlog.Tree, reader tlog.HashReader) error {
	text, err := readBounded(receiptPath, maxProof)
	if err != nil {
		return err
	}
	entry, err := readBounded(entryPath, 65535)
	if err != nil {
		return err
	}
	index, proof, cp, err := parseTlogProof(text)
	if err != nil {
		return err
	}
	tree, err := c.openCheckpoint(cp)
	if err != nil {
		return err
	}
	if index >= tree.N {
		return failf("index %d is not below the size %d", index, tree.N)
	}
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, index, tlog.RecordHash(entry)); err != nil {
		return failf("tlog.CheckRecord: %v", err)
	}
	if err := consistent(tree, current, reader); err != nil {
		return err
	}
	fmt.Printf("%s: entry %d included in size %d, consistent with the log\n", receiptPath, index, tree.N)
	return nil
}

// parseTlogProof reads c2sp.org/tlog-proof@v1: header, optional extra line, index,
// at most 64 hash lines, an empty line, the checkpoint.
func parseTlogProof(text []byte) (int64, tlog.RecordProof, []byte, error) {
	rest := text
	next := func() (string, error) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return "", failf("receipt ends before its checkpoint")
		}
		line := string(rest[:i])
		rest = rest[i+1:]
		return line, nil
	}
	line, err := next()
	if err != nil {
		return 0, nil, nil, err
	}
	if line != "c2sp.org/tlog-proof@v1" {
		return 0, nil, nil, failf("receipt header %q", line)
	}
	if line, err = next(); err != nil {
		return 0, nil, nil, err
	}
	if strings.HasPrefix(line, "extra ") {
		if line, err = next(); err != nil {
			return 0, nil, nil, err
		}
	}
	digits := strings.TrimPrefix(line, "index ")
	index, err := strconv.ParseInt(digits, 10, 64)
	if !strings.HasPrefix(line, "index ") || err != nil || index < 0 || strconv.FormatInt(index, 10) != digits {
		return 0, nil, nil, failf("receipt index line %q", line)
	}
	var proof tlog.RecordProof
	for {
		if line, err = next(); err != nil {
			return 0, nil, nil, err
		}
		if line == "" {
			break
		}
		if len(proof) == maxProofHashes {
			return 0, nil, nil, failf("more than %d proof lines", maxProofHashes)
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(line)
		if err != nil || len(raw) != 32 {
			return 0, nil, nil, failf("proof line %q is not a 32-byte hash", line)
		}
		var h tlog.Hash
		copy(h[:], raw)
		proof = append(proof, h)
	}
	return index, proof, rest, nil
}

// tilePath is the C2SP tlog-tiles path of tile N at level L ("entries" for entry
// bundles), width W (W < 256 adds .p/W).
func tilePath(level string, n int64, width int) string {
	groups := []string{fmt.Sprintf("%03d", n%1000)}
	for n /= 1000; n > 0; n /= 1000 {
		groups = append([]string{fmt.Sprintf("x%03d", n%1000)}, groups...)
	}
	p := "tile/" + level + "/" + strings.Join(groups, "/")
	if width < tileWidth {
		p += fmt.Sprintf(".p/%d", width)
	}
	return p
}

// widthAt is the width of tile n at tile level l in a tree of size s (0: no such tile).
func widthAt(s int64, l int, n int64) int {
	count := s >> (uint(l) * tileHeight) // hashes at tree level 8l
	w := count - n*tileWidth
	if w <= 0 {
		return 0
	}
	if w > tileWidth {
		return tileWidth
	}
	return int(w)
}

// tileReader serves stored hashes (tlog's storage indexes) from the tiles the log must
// publish for its checkpoint's size, reading each tile file once.
type tileReader struct {
	public string
	size   int64
	cache  map[[2]int64][]byte
}

func (r *tileReader) tile(l int, n int64) ([]byte, int, error) {
	w := widthAt(r.size, l, n)
	if w == 0 {
		return nil, 0, failf("tile %d/%d is beyond the tree of size %d", l, n, r.size)
	}
	key := [2]int64{int64(l), n}
	if data, ok := r.cache[key]; ok {
		return data, w, nil
	}
	path := filepath.Join(r.public, filepath.FromSlash(tilePath(strconv.Itoa(l), n, w)))
	data, err := readBounded(path, tileWidth*tlog.HashSize)
	if err != nil {
		return nil, 0, err
	}
	if len(data) != w*tlog.HashSize {
		return nil, 0, failf("%s: %d bytes, not %d", path, len(data), w*tlog.HashSize)
	}
	r.cache[key] = data
	return data, w, nil
}

func (r *tileReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, index := range indexes {
		t := tlog.TileForIndex(tileHeight, index)
		data, w, err := r.tile(t.L, t.N)
		if err != nil {
			return nil, err
		}
		if w < t.W {
			return nil, failf("stored hash %d is beyond the tree of size %d", index, r.size)
		}
		t.W = w
		h, err := tlog.HashFromTile(t, data, index)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// checkEntryBundles reads every entry bundle of the tree and requires each entry's
// tlog.RecordHash to be the level-0 hash at its index.
func checkEntryBundles(public string, size int64, reader tlog.HashReader) error {
	for n := int64(0); n*tileWidth < size; n++ {
		w := widthAt(size, 0, n)
		path := filepath.Join(public, filepath.FromSlash(tilePath("entries", n, w)))
		data, err := readBounded(path, int64(w)*(2+65535))
		if err != nil {
			return err
		}
		for i := 0; i < w; i++ {
			if len(data) < 2 {
				return failf("%s: ends after %d of %d entries", path, i, w)
			}
			l := int(binary.BigEndian.Uint16(data))
			if len(data) < 2+l {
				return failf("%s: entry %d is cut short", path, i)
			}
			entry := data[2 : 2+l]
			data = data[2+l:]
			index := n*tileWidth + int64(i)
			stored, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
			if err != nil {
				return err
			}
			if tlog.RecordHash(entry) != stored[0] {
				return failf("%s: entry %d does not hash to the level-0 tile", path, index)
			}
		}
		if len(data) != 0 {
			return failf("%s: %d bytes after its %d entries", path, len(data), w)
		}
	}
	return nil
}

// cosignatureVerifier is a note.Verifier for c2sp.org/tlog-cosignature cosignature/v1
// (type 0x04): the signature is u64 BE time || Ed25519 over
// "cosignature/v1\ntime <t>\n" || note text.
type cosignatureVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func newCosignatureVerifier(vkey string) (*cosignatureVerifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 || parts[0] == "" {
		return nil, errors.New("not name+id+key")
	}
	id, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil {
		return nil, errors.New("bad key id")
	}
	material, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(material) != 1+ed25519.PublicKeySize || material[0] != 0x04 {
		return nil, errors.New("not a type 0x04 Ed25519 key")
	}
	h := sha256.New()
	h.Write([]byte(parts[0] + "\n"))
	h.Write(material)
	if binary.BigEndian.Uint32(h.Sum(nil)) != uint32(id) {
		return nil, errors.New("key id does not match")
	}
	return &cosignatureVerifier{name: parts[0], hash: uint32(id), key: ed25519.PublicKey(material[1:])}, nil
}

// witnessKey names a verified witness signature by its public key: a cosignature/v1 does
// not sign the witness name, so one key trusted under two names is one witness
// (spec/log.md §6).
func witnessKey(known note.Verifiers, sig note.Signature) string {
	if v, err := known.Verifier(sig.Name, sig.Hash); err == nil {
		if w, ok := v.(*cosignatureVerifier); ok {
			return string(w.key)
		}
	}
	return fmt.Sprintf("%s+%08x", sig.Name, sig.Hash)
}

func (v *cosignatureVerifier) Name() string    { return v.name }
func (v *cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v *cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	signed := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(v.key, signed, sig[8:])
}

// authenticateFullTiles requires every full tile at level L, whose parent tile at level
// L+1 lies in the tree, to hash (its 256 hashes as a subtree, tlog.HashFromTile and
// tlog.NodeHash) to the parent's hash at its position.
func authenticateFullTiles(size int64, tiles *tileReader, reader tlog.HashReader) error {
	for l := 0; l < 8 && size>>(uint(l+1)*tileHeight) > 0; l++ {
		full := (size >> (uint(l) * tileHeight)) / tileWidth
		for n := int64(0); n < full; n++ {
			data, w, err := tiles.tile(l, n)
			if err != nil {
				return err
			}
			t := tlog.Tile{H: tileHeight, L: l, N: n, W: w}
			level := l*tileHeight + tileHeight - 1
			left, err := tlog.HashFromTile(t, data, tlog.StoredHashIndex(level, 2*n))
			if err != nil {
				return err
			}
			right, err := tlog.HashFromTile(t, data, tlog.StoredHashIndex(level, 2*n+1))
			if err != nil {
				return err
			}
			parent, err := reader.ReadHashes([]int64{tlog.StoredHashIndex((l+1)*tileHeight, n)})
			if err != nil {
				return err
			}
			if tlog.NodeHash(left, right) != parent[0] {
				return failf("%s does not hash to its entry in the tile above", tilePath(strconv.Itoa(l), n, w))
			}
		}
	}
	return nil
}

// checkWitnessRequest reads a tlog-witness add-checkpoint body as a witness would: the
// old size, at most 63 proof lines, an empty line, the checkpoint (opened with note).
// The old tree's root is recomputed from the tiles; the log's proof must satisfy
// tlog.CheckTree and be exactly what tlog.ProveTree computes.
func checkWitnessRequest(body []byte, c *checker, current tlog.Tree, reader tlog.HashReader) error {
	i := bytes.IndexByte(body, '\n')
	if i < 0 || !bytes.HasPrefix(body, []byte("old ")) {
		return failf("no old line")
	}
	digits := string(body[4:i])
	old, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || old < 0 || strconv.FormatInt(old, 10) != digits {
		return failf("old line %q", digits)
	}
	rest := body[i+1:]
	var proof tlog.TreeProof
	for {
		j := bytes.IndexByte(rest, '\n')
		if j < 0 {
			return failf("no empty line")
		}
		line := string(rest[:j])
		rest = rest[j+1:]
		if line == "" {
			break
		}
		if len(proof) == 63 {
			return failf("more than 63 proof lines")
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(line)
		if err != nil || len(raw) != 32 {
			return failf("proof line %q", line)
		}
		var h tlog.Hash
		copy(h[:], raw)
		proof = append(proof, h)
	}
	tree, err := c.openCheckpoint(rest)
	if err != nil {
		return err
	}
	if tree.N > current.N || old > tree.N {
		return failf("sizes old %d, checkpoint %d, log %d", old, tree.N, current.N)
	}
	if old == 0 || old == tree.N {
		if len(proof) != 0 {
			return failf("a proof where none is due")
		}
		return nil
	}
	oldRoot, err := tlog.TreeHash(old, reader)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(proof, tree.N, tree.Hash, old, oldRoot); err != nil {
		return failf("tlog.CheckTree: %v", err)
	}
	expected, err := tlog.ProveTree(tree.N, old, reader)
	if err != nil {
		return err
	}
	if len(expected) != len(proof) {
		return failf("%d proof lines, tlog.ProveTree gives %d", len(proof), len(expected))
	}
	for k := range proof {
		if proof[k] != expected[k] {
			return failf("proof line %d differs from tlog.ProveTree's", k)
		}
	}
	return nil
}

// goNoteDifferences lists the vectors where Go's note.Open is knowingly more lenient than
// spec/log.md §6: it does not verify a repeated line of a key it already verified.
var goNoteDifferences = map[string]bool{
	"second-log-line-does-not-verify": true,
}

// checkVectors opens every checkpoint of spec/vectors/log/checkpoints.json with note.Open
// (and this checker's body rules) and requires the recorded outcome: the size, root and
// counted witnesses, or a refusal.
func checkVectors(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var file struct {
		Keys struct {
			Log struct {
				Vkey string `json:"vkey"`
			} `json:"log"`
		} `json:"keys"`
		Cases []struct {
			Name      string   `json:"name"`
			Note      string   `json:"note"`
			Witnesses []string `json:"trusted_witnesses"`
			Expect    struct {
				Size      *int64          `json:"size"`
				Root      string          `json:"root"`
				Witnesses [][]interface{} `json:"witnesses"`
				Error     string          `json:"error"`
			} `json:"expect"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return err
	}
	logVerifier, err := note.NewVerifier(file.Keys.Log.Vkey)
	if err != nil {
		return fmt.Errorf("log vkey: %v", err)
	}
	for _, c := range file.Cases {
		verifiers := []note.Verifier{logVerifier}
		for _, w := range c.Witnesses {
			v, err := newCosignatureVerifier(w)
			if err != nil {
				return fmt.Errorf("%s: witness vkey: %v", c.Name, err)
			}
			verifiers = append(verifiers, v)
		}
		ch := &checker{logVerifier: logVerifier, known: note.VerifierList(verifiers...)}
		var tree tlog.Tree
		err := error(nil)
		if len(c.Note) > maxCheckpoint {
			err = failf("over %d bytes", maxCheckpoint)
		} else {
			tree, err = ch.openCheckpoint([]byte(c.Note))
		}
		refused := c.Expect.Error != ""
		if goNoteDifferences[c.Name] {
			if err != nil {
				return failf("%s: note.Open now refuses it (%v): drop it from goNoteDifferences", c.Name, err)
			}
			fmt.Printf("vector %s: accepted by note.Open (a known difference)\n", c.Name)
			continue
		}
		if refused {
			if err == nil {
				return failf("%s: accepted, expected %q", c.Name, c.Expect.Error)
			}
			fmt.Printf("vector %s: refused (%v)\n", c.Name, err)
			continue
		}
		if err != nil {
			return failf("%s: %v", c.Name, err)
		}
		if c.Expect.Size == nil || tree.N != *c.Expect.Size || tree.Hash.String() != c.Expect.Root {
			return failf("%s: size %d root %s", c.Name, tree.N, tree.Hash)
		}
		n, _ := note.Open([]byte(c.Note), ch.known)
		counted := map[string]bool{}
		for _, sig := range n.Sigs {
			if sig.Name != logVerifier.Name() || sig.Hash != logVerifier.KeyHash() {
				counted[witnessKey(ch.known, sig)] = true
			}
		}
		if len(counted) != len(c.Expect.Witnesses) {
			return failf("%s: %d witnesses, expected %d", c.Name, len(counted), len(c.Expect.Witnesses))
		}
		fmt.Printf("vector %s: size %d, %d witnesses\n", c.Name, tree.N, len(counted))
	}
	return nil
}
