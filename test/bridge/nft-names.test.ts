// The names upstream gives its nf_tables objects, computed without the
// kernel: SHA-512 (ours, checked against node:crypto), the masquerade
// comment (hash prefix, quotes stripped, 128-byte cut), the spoof check's
// chains and comment, and GC's attachment list.
import t from 'tap'
import { createHash } from 'node:crypto'
import { sha512Hex } from '../../src/plugins/bridge/sha512.js'
import { instanceHash, masqComment, networkHash } from '../../src/plugins/bridge/masquerade.js'
import { spoofCheckNames } from '../../src/plugins/bridge/spoofcheck.js'
import { readGCAttachments } from '../../src/cni/gc.js'
import { UPSTREAM_MASQ_COMMENTS } from '../helpers/upstream-golden.js'
import { prng } from '../helpers/fuzz.js'

t.test('sha512Hex equals node:crypto for lengths 0..300 and multi-byte text', async t => {
  let bad = 0
  const rnd = prng(300)
  for (let n = 0; n <= 300; n++) {
    const s = Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256))).toString('latin1')
    if (sha512Hex(s) !== createHash('sha512').update(s, 'utf8').digest('hex')) bad++
  }
  t.equal(bad, 0, 'no mismatch over 301 random strings (crossing the 111/112-byte padding edge)')
  t.equal(sha512Hex('abc').slice(0, 32), 'ddaf35a193617abacc417349ae204131', 'FIPS 180-2 example')
  t.equal(sha512Hex('ü€'), createHash('sha512').update('ü€', 'utf8').digest('hex'))
})

t.test('masquerade comment: upstream\'s format', async t => {
  const i = { network: 'dg3', ifname: 'eth0', containerID: 'c4' }
  // Recorded from the official plugin's layout (fixtures/nft, test/netlink/nft.test.ts).
  t.equal(masqComment(i), '63f96a6b6584fb83-3f3eae28ceca4598, net: dg3, if: eth0, id: c4')
  t.equal(networkHash('dg3'), '63f96a6b6584fb83')
  t.equal(instanceHash(i), '63f96a6b6584fb83-3f3eae28ceca4598')
  // Upstream's golden strings (test/helpers/upstream-golden.ts names the file).
  for (const g of UPSTREAM_MASQ_COMMENTS) {
    t.equal(masqComment(g), g.comment, `upstream's comment for ${g.network}/${g.ifname}/${g.containerID}`)
    t.equal(networkHash(g.network), g.comment.slice(0, 16))
    t.equal(instanceHash(g), g.comment.slice(0, 33))
  }
  t.match(masqComment({ network: 'a"b', ifname: 'eth0', containerID: 'x"y' }), /, net: ab, if: eth0, id: xy$/, 'quotes stripped (hashes are of the raw names)')
  const long = masqComment({ network: 'net', ifname: 'eth0', containerID: 'f'.repeat(200) })
  t.equal(Buffer.byteLength(long), 128, 'cut at 128 bytes')
  t.ok(long.startsWith(instanceHash({ network: 'net', ifname: 'eth0', containerID: 'f'.repeat(200) })), 'the hash prefix survives the cut')
  const multi = masqComment({ network: 'net', ifname: 'eth0', containerID: 'é'.repeat(100) })
  t.ok(Buffer.byteLength(multi) <= 128 && !multi.includes('\uFFFD'), 'a multi-byte character cut in two is dropped whole')
})

t.test('spoof check names: upstream\'s chains and comment', async t => {
  t.same(spoofCheckNames('c4', 'eth0'), { ifaceChain: 'cni-br-iface-c4-eth0', macChain: 'cni-br-iface-c4-eth0-mac', comment: 'macspoofchk-c4-eth0' })
})

t.test('GC attachments: absent, valid, malformed (code 7 naming the entry)', async t => {
  t.equal(readGCAttachments({}), undefined)
  t.same(readGCAttachments({ 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] }), [{ containerID: 'a', ifname: 'eth0' }])
  t.same(readGCAttachments({ 'cni.dev/valid-attachments': [] }), [], 'an empty list: every attachment is stale')
  t.throws(() => readGCAttachments({ 'cni.dev/valid-attachments': {} }), { code: 7, details: 'cni.dev/valid-attachments: expected array, got object' })
  t.throws(() => readGCAttachments({ 'cni.dev/valid-attachments': [{ containerID: 'a' }] }), { code: 7, details: 'cni.dev/valid-attachments[0].ifname: expected string, missing' })
})
