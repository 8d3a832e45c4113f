// scripts/record-fixture.mjs: its strace parser on canned output, and one
// real recording compared with our own encoder.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// @ts-expect-error: a plain .mjs script without type declarations
import { parseStrace, messageTypes } from '../../scripts/record-fixture.mjs'
import { normaliseSeqPid } from '../helpers/fixtures.js'
import { buildCreateBridgeRequest } from '../../src/netlink/route/links.js'

type Datagram = { direction: 'request' | 'reply', bytes: Buffer, fd: number, pid: string, proto?: string }
const parse = parseStrace as (text: string) => Datagram[]

const CANNED = [
  '4711 sendto(3<NETLINK:[1234]>, [{nlmsg_len=20, nlmsg_type=0xa10 /* NLMSG_??? */, nlmsg_flags=NLM_F_REQUEST, nlmsg_seq=0, nlmsg_pid=0}, "\\x00\\x00\\x00\\x00"], 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 20',
  ' | 00000  14 00 00 00 10 0a 01 00  00 00 00 00 00 00 00 00  ................ |',
  ' | 00010  00 00 00 00                                       ....             |',
  '4711 recvmsg(3<NETLINK:[NETFILTER:4711]>, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_namelen=12, msg_iov=[{iov_base=NULL, iov_len=0}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, MSG_PEEK|MSG_TRUNC) = 20',
  '4712 recvmsg(5<NETLINK:[ROUTE:4712]>, {msg_name={sa_family=AF_NETLINK}, msg_iov=[{iov_base=[...], iov_len=32768}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0 <unfinished ...>',
  '4711 recvmsg(3<NETLINK:[NETFILTER:4711]>, {msg_name={sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, msg_iov=[{iov_base=[...], iov_len=69631}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 20',
  ' * 20 bytes in buffer 0',
  ' | 00000  14 00 00 00 03 00 02 00  00 00 00 00 67 12 00 00  ............g... |',
  ' | 00010  00 00 00 00                                       ....             |',
  '4712 <... recvmsg resumed>) = 20',
  ' * 20 bytes in buffer 0',
  ' | 00000  14 00 00 00 03 00 02 00  01 00 00 00 68 12 00 00  ............h... |',
  ' | 00010  00 00 00 00                                       ....             |',
  '4711 recvmsg(3<NETLINK:[NETFILTER:4711]>, {msg_namelen=12}, 0) = -1 EAGAIN (Resource temporarily unavailable)',
  '4711 sendmsg(7<socket:[99]>, {msg_iov=[{iov_base="\\x01", iov_len=1}]}, 0) = 1',
  ' * 1 bytes in buffer 0',
  ' | 00000  01                                                .                |'
].join('\n')

t.test('parseStrace', async t => {
  const d = parse(CANNED)
  t.same(d.map(x => [x.direction, x.pid, x.fd, x.proto ?? null, x.bytes.length]), [
    ['request', '4711', 3, 'NETFILTER', 20], // protocol learnt from a later line of the same socket
    ['reply', '4711', 3, 'NETFILTER', 20],
    ['reply', '4712', 5, 'ROUTE', 20] // an unfinished call completed by its "resumed" line
  ], 'peeks, failed calls and non-netlink sockets are skipped')
  t.equal(d[0]!.bytes.toString('hex'), '14000000100a01000000000000000000' + '00000000')
  t.same(messageTypes(d[1]!.bytes), [3])
  t.equal(d[2]!.bytes.readUInt32LE(8), 1, 'the resumed call got its own dump')
})

t.test('a real recording', { skip: process.getuid?.() !== 0 ? 'needs root: records inside a network namespace' : false }, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'link-recorder-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const out = join(dir, 'x.json')
  execFileSync('node', ['scripts/record-fixture.mjs', '--out', out, '--desc', 'test', '--type', 'RTM_NEWLINK', '--', 'ip', 'link', 'add', 'br9', 'mtu', '1280', 'type', 'bridge'], { stdio: 'pipe' })
  const f = JSON.parse(readFileSync(out, 'utf8')) as { command: string, direction: string, hex: string, how: string }
  t.equal(f.command, 'ip link add br9 mtu 1280 type bridge')
  t.equal(f.direction, 'request')
  t.match(f.how, /strace .*exit status 0/)
  t.equal(normaliseSeqPid(Buffer.from(f.hex, 'hex')).toString('hex'), normaliseSeqPid(buildCreateBridgeRequest({ name: 'br9', mtu: 1280 })).toString('hex'))
  const list = execFileSync('node', ['scripts/record-fixture.mjs', '--list', '--', 'ip', 'link', 'show'], { encoding: 'utf8' })
  t.match(list, /request:\d+ +40 bytes +RTM_GETLINK/)
  t.match(list, /reply:\d+ +\d+ bytes +RTM_NEWLINK/)
  t.match(list, /NLMSG_DONE/)
})
