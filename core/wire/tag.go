package wire

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// An Authenticode-signed app carries the per-session Details inside its
// attribute certificate table (PE data directory 4), after the PKCS#7
// signature: the signature's hash leaves that table out, so every download
// keeps the one valid signature. The table stays the file's last bytes and
// 8-byte aligned; the tag ends it:
//
//	WIN_CERTIFICATE{dwLength, 0x0200, 0x0002} | PKCS#7 DER | padding |
//	zero bytes | JSON | u32 JSON length | u32 table length | tagMagic
//
// (big-endian lengths), so the app finds it in the last bytes of its file
// like the unsigned trailer.
var tagMagic = []byte("ADHOC-SUPPORT-TAG-v1")

// tagFooter is the length fields and magic after the JSON.
var tagFooter = 8 + len(tagMagic)

// maxTableBytes bounds the signed app's certificate table (a signature
// with its chain and a timestamp is a few KiB), so the app knows how much
// of its file's end to read.
const maxTableBytes = 64 << 10

const (
	winCertRevision = 0x0200
	winCertPKCS7    = 0x0002
	securityDir     = 4
)

// SignedApp is a parsed Authenticode-signed Support Session app, ready to
// be tagged with per-session details without copying or re-signing.
type SignedApp struct {
	exe      []byte
	sizeAt   int // file offset of the security directory's Size field
	table    int // file offset of the certificate table
	tableLen int
	der      []byte // the PKCS#7 SignedData
	// sumAt is the PE checksum field's offset (0: left as it is); base is
	// the checksum's word sum over the app without the three fields a tag
	// changes, so a download's checksum costs only its tag's words.
	sumAt int
	base  uint32
}

// ErrNotSigned means the program has no Authenticode signature;
// ErrNotProgram that it is not a Windows program at all (a test's stand-in).
var (
	ErrNotSigned  = errors.New("the Support Session app is not signed")
	ErrNotProgram = errors.New("the Support Session app is not a Windows program")
)

// ParseSignedApp finds exe's Authenticode signature. Errors: ErrNotSigned
// when it has none, ErrNotProgram when exe is not a PE file; another error when the PE file or its certificate table
// is malformed, or the table is not at the end of the file (where tagging
// needs it).
func ParseSignedApp(exe []byte) (*SignedApp, error) {
	sizeAt, err := securityDirSize(exe)
	if err != nil {
		return nil, err
	}
	table := int(binary.LittleEndian.Uint32(exe[sizeAt-4:]))
	tableLen := int(binary.LittleEndian.Uint32(exe[sizeAt:]))
	if table == 0 && tableLen == 0 {
		return nil, ErrNotSigned
	}
	switch {
	case tableLen < 8 || tableLen%8 != 0 || table < sizeAt || table%8 != 0:
		return nil, errors.New("the app's certificate table is malformed")
	case table+tableLen != len(exe):
		return nil, errors.New("the app's certificate table is not at the end of the file")
	case tableLen > maxTableBytes:
		return nil, fmt.Errorf("the app's certificate table is %d bytes, more than the %d the app reads", tableLen, maxTableBytes)
	}
	hdr := exe[table:]
	if n := int(binary.LittleEndian.Uint32(hdr)); n < 8 || n > tableLen ||
		binary.LittleEndian.Uint16(hdr[4:]) != winCertRevision || binary.LittleEndian.Uint16(hdr[6:]) != winCertPKCS7 {
		return nil, errors.New("the app's certificate table does not hold one PKCS#7 signature")
	}
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(hdr[8:tableLen], &raw); err != nil {
		return nil, fmt.Errorf("the app's signature is not valid DER: %w", err)
	}
	a := &SignedApp{exe: exe, sizeAt: sizeAt, table: table, tableLen: tableLen, der: raw.FullBytes}
	a.prepareChecksum()
	return a, nil
}

// prepareChecksum keeps the PE checksum right in tagged downloads when the
// signer set one (tools report a stale one; Windows checks it only for
// drivers) and the fields fall on word boundaries, as linkers place them.
func (a *SignedApp) prepareChecksum() {
	pe := int(binary.LittleEndian.Uint32(a.exe[0x3c:]))
	sumAt := pe + 24 + 64
	if binary.LittleEndian.Uint32(a.exe[sumAt:]) == 0 || sumAt%2 != 0 || a.sizeAt%2 != 0 {
		return
	}
	skip := [...]int{sumAt, a.sizeAt, a.table}
	var sum uint32
	for i := 0; i+1 < len(a.exe); i += 2 {
		if i == skip[0] || i == skip[1] || i == skip[2] {
			i += 2 // and the loop's 2: the 4-byte field
			continue
		}
		sum = fold(sum + uint32(binary.LittleEndian.Uint16(a.exe[i:])))
	}
	a.sumAt, a.base = sumAt, sum
}

func fold(s uint32) uint32 { return s&0xffff + s>>16 }

// checksum is the PE checksum of the tagged download: the app's words
// (base), the grown lengths and the tag's words, plus the file's length.
func (a *SignedApp) checksum(sizes, tag []byte) uint32 {
	sum := a.base
	for _, b := range [][]byte{sizes, tag} {
		for i := 0; i+1 < len(b); i += 2 {
			sum = fold(sum + uint32(binary.LittleEndian.Uint16(b[i:])))
		}
	}
	return fold(sum) + uint32(len(a.exe)+len(tag))
}

// securityDirSize returns the file offset of the Size field of exe's
// security data directory (its VirtualAddress, a file offset, is the 4
// bytes before).
func securityDirSize(exe []byte) (int, error) {
	bad := ErrNotProgram
	if len(exe) < 0x40 || exe[0] != 'M' || exe[1] != 'Z' {
		return 0, bad
	}
	pe := int(binary.LittleEndian.Uint32(exe[0x3c:]))
	opt := pe + 24
	if pe <= 0 || opt+2 > len(exe) || !bytes.Equal(exe[pe:pe+4], []byte("PE\x00\x00")) {
		return 0, bad
	}
	optLen := int(binary.LittleEndian.Uint16(exe[pe+20:]))
	var count, dirs int
	switch binary.LittleEndian.Uint16(exe[opt:]) {
	case 0x10b: // PE32
		count, dirs = opt+92, opt+96
	case 0x20b: // PE32+
		count, dirs = opt+108, opt+112
	default:
		return 0, bad
	}
	dir := dirs + securityDir*8
	if dir+8 > opt+optLen || dir+8 > len(exe) || binary.LittleEndian.Uint32(exe[count:]) <= securityDir {
		return 0, bad
	}
	return dir + 4, nil
}

// Len is the size of a tagged download before its details: the signed app.
func (a *SignedApp) Len() int { return len(a.exe) }

// Tag returns the pieces of a download that carries d in the signature's
// padding, in order: they share the app's bytes (nothing is copied or
// signed again); only the two grown lengths and the tag are new.
func (a *SignedApp) Tag(d Details) ([][]byte, error) {
	js, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	if len(js) > maxDetailsBytes {
		return nil, errors.New("pairing details too large")
	}
	pad := (8 - (len(js)+tagFooter)%8) % 8
	tagLen := pad + len(js) + tagFooter
	newLen := a.tableLen + tagLen
	tag := make([]byte, tagLen, tagLen+12)
	copy(tag[pad:], js)
	foot := tag[pad+len(js):]
	binary.BigEndian.PutUint32(foot, uint32(len(js)))
	binary.BigEndian.PutUint32(foot[4:], uint32(newLen))
	copy(foot[8:], tagMagic)
	// The directory's Size and WIN_CERTIFICATE's dwLength both grow.
	sizes := tag[tagLen : tagLen+8]
	binary.LittleEndian.PutUint32(sizes, uint32(newLen))
	binary.LittleEndian.PutUint32(sizes[4:], uint32(newLen))
	if a.sumAt == 0 {
		return [][]byte{
			a.exe[:a.sizeAt], sizes[:4],
			a.exe[a.sizeAt+4 : a.table], sizes[4:],
			a.exe[a.table+4:], tag,
		}, nil
	}
	sum := tag[tagLen+8 : tagLen+12]
	binary.LittleEndian.PutUint32(sum, a.checksum(sizes, tag))
	return [][]byte{
		a.exe[:a.sumAt], sum,
		a.exe[a.sumAt+4 : a.sizeAt], sizes[:4],
		a.exe[a.sizeAt+4 : a.table], sizes[4:],
		a.exe[a.table+4:], tag,
	}, nil
}

// readTag reads the Details of a tagged signed app from its last bytes,
// checking that the tag ends a whole certificate table.
func readTag(tail []byte) (Details, error) {
	var d Details
	end := len(tail) - len(tagMagic)
	if end < 8 {
		return d, ErrNoDetails
	}
	n := int(binary.BigEndian.Uint32(tail[end-8:]))
	tableLen := int(binary.BigEndian.Uint32(tail[end-4:]))
	js := end - 8 - n
	table := len(tail) - tableLen
	if n <= 0 || n > maxDetailsBytes || js < 0 || tableLen%8 != 0 || table < 0 || table+8 > js {
		return d, ErrNoDetails
	}
	hdr := tail[table:]
	if int(binary.LittleEndian.Uint32(hdr)) != tableLen ||
		binary.LittleEndian.Uint16(hdr[4:]) != winCertRevision || binary.LittleEndian.Uint16(hdr[6:]) != winCertPKCS7 {
		return d, ErrNoDetails
	}
	if err := json.Unmarshal(tail[js:end-8], &d); err != nil {
		return d, ErrNoDetails
	}
	return d, nil
}

// Signer returns the certificate that signed the app (its subject is the
// publisher Windows shows), found in the PKCS#7 SignedData by the first
// signer's issuer and serial number.
func (a *SignedApp) Signer() (*x509.Certificate, error) {
	// ContentInfo{contentType, [0] EXPLICIT SignedData} (RFC 5652).
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	var sd struct {
		Version      int
		Digests      asn1.RawValue
		Encap        asn1.RawValue
		Certificates asn1.RawValue `asn1:"optional,tag:0"`
		CRLs         asn1.RawValue `asn1:"optional,tag:1"`
		Signers      asn1.RawValue
	}
	var si struct {
		Version int
		ID      struct {
			Issuer asn1.RawValue
			Serial *big.Int
		}
	}
	bad := func(err error) (*x509.Certificate, error) {
		return nil, fmt.Errorf("the app's signature cannot be read: %w", err)
	}
	if _, err := asn1.Unmarshal(a.der, &ci); err != nil {
		return bad(err)
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return bad(err)
	}
	certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
	if err != nil {
		return bad(err)
	}
	// Signers is a SET OF SignerInfo; an Authenticode signature has one.
	if _, err := asn1.Unmarshal(sd.Signers.Bytes, &si); err != nil {
		return bad(err)
	}
	for _, c := range certs {
		if bytes.Equal(c.RawIssuer, si.ID.Issuer.FullBytes) && si.ID.Serial != nil && c.SerialNumber.Cmp(si.ID.Serial) == 0 {
			return c, nil
		}
	}
	return bad(errors.New("the signer's certificate is not in it"))
}

// Publisher is the name Windows shows for a signing certificate in the
// administrator prompt: its subject's common name, else its organisation.
func Publisher(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.Subject.Organization) > 0 {
		return c.Subject.Organization[0]
	}
	return c.Subject.String()
}
