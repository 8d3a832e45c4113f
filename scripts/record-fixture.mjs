#!/usr/bin/env node
// Records the netlink bytes a command sends or receives, as a fixture file.
//
//   node scripts/record-fixture.mjs --out fixtures/link/add-bridge.json \
//     --desc "ip link add of a bridge" --pick request:last \
//     [--type RTM_NEWLINK] [--proto route|netfilter|auto] \
//     [--setup 'ip link add x type veth peer name y' ...] [--list] \
//     -- ip link add br0 type bridge
//
// The command runs under strace in a throwaway network namespace (created
// here, deleted afterwards, also on failure). Setup commands run first in the
// same namespace, untraced. In setup commands and the recorded command,
// {ns} names that namespace and {ns2} a second throwaway namespace (created
// only when referenced), e.g. `ip link add a type veth peer name b netns {ns2}`.
//
// strace -e write=all / read=all prints a hex dump of every buffer after each
// traced call; those dumps are the source of truth (the decoded text is not
// parsed). sendto/recvfrom are traced besides sendmsg/recvmsg because
// iproute2 sends dump requests with send(2). Only sockets of the chosen
// netlink protocol count: route for ip/bridge, netfilter for nft and conntrack (auto).
//
// --pick selects datagrams (one sendmsg/recvmsg each):
//   request:N | request:first | request:last | reply:N | reply:first |
//   reply:last | reply:all (every reply datagram, concatenated: a whole dump)
// N counts from 0. --type NAME|NUMBER (repeatable) keeps only datagrams
// holding at least one message of that nlmsg_type before picking; with
// --only-type the other messages inside those datagrams are dropped too.
// --list prints every captured datagram (index, direction, message types)
// and writes nothing: use it to find the right --pick.
// A command that fails (the kernel refused it) is still recorded: its
// request bytes are what we want; the exit status goes into "how".
// --output keeps what the traced command printed, as "output" (parsed when
// it is JSON): run `ip -j …` and the fixture carries iproute2's own reading
// of the very bytes recorded, an oracle for decoder tests.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir, release } from 'node:os'
import { basename, dirname, join } from 'node:path'

const RTM_NAMES = {
  NLMSG_NOOP: 1, NLMSG_ERROR: 2, NLMSG_DONE: 3, NLMSG_OVERRUN: 4,
  RTM_NEWLINK: 16, RTM_DELLINK: 17, RTM_GETLINK: 18, RTM_SETLINK: 19,
  RTM_NEWADDR: 20, RTM_DELADDR: 21, RTM_GETADDR: 22,
  RTM_NEWROUTE: 24, RTM_DELROUTE: 25, RTM_GETROUTE: 26,
  RTM_NEWNEIGH: 28, RTM_DELNEIGH: 29, RTM_GETNEIGH: 30,
  RTM_NEWRULE: 32, RTM_DELRULE: 33, RTM_GETRULE: 34,
  RTM_NEWNSID: 88, RTM_DELNSID: 89, RTM_GETNSID: 90,
  RTM_NEWNEXTHOP: 104, RTM_DELNEXTHOP: 105, RTM_GETNEXTHOP: 106
}
// nf_tables messages are (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_*.
const NFT_MSGS = [
  'NEWTABLE', 'GETTABLE', 'DELTABLE', 'NEWCHAIN', 'GETCHAIN', 'DELCHAIN', 'NEWRULE', 'GETRULE', 'DELRULE',
  'NEWSET', 'GETSET', 'DELSET', 'NEWSETELEM', 'GETSETELEM', 'DELSETELEM', 'NEWGEN', 'GETGEN', 'TRACE',
  'NEWOBJ', 'GETOBJ', 'DELOBJ', 'GETOBJ_RESET', 'NEWFLOWTABLE', 'GETFLOWTABLE', 'DELFLOWTABLE',
  'GETRULE_RESET', 'DESTROYTABLE', 'DESTROYCHAIN', 'DESTROYRULE', 'DESTROYSET', 'DESTROYSETELEM',
  'DESTROYOBJ', 'DESTROYFLOWTABLE'
]
const NF_NAMES = { NLMSG_NOOP: 1, NLMSG_ERROR: 2, NLMSG_DONE: 3, NLMSG_OVERRUN: 4, NFNL_MSG_BATCH_BEGIN: 0x10, NFNL_MSG_BATCH_END: 0x11 }
NFT_MSGS.forEach((m, i) => { NF_NAMES['NFT_MSG_' + m] = (10 << 8) | i })
// ctnetlink messages are (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_*.
;['NEW', 'GET', 'DELETE', 'GET_CTRZERO', 'GET_STATS_CPU', 'GET_STATS', 'GET_DYING', 'GET_UNCONFIRMED'].forEach((m, i) => { NF_NAMES['IPCTNL_MSG_CT_' + m] = (1 << 8) | i })

function usage (msg) {
  if (msg) process.stderr.write(`record-fixture: ${msg}\n`)
  process.stderr.write('usage: record-fixture.mjs --out FILE --desc TEXT [--pick request:last] [--type T]... [--only-type] [--proto route|netfilter|auto] [--setup CMD]... [--output] [--list] -- COMMAND...\n')
  process.exit(2)
}

function parseArgs (argv) {
  const o = { setup: [], types: [], pick: 'request:last', proto: 'auto', onlyType: false, list: false, output: false }
  let i = 0
  for (; i < argv.length; i++) {
    const a = argv[i]
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i] }
    if (a === '--') { i++; break }
    else if (a === '--out') o.out = val()
    else if (a === '--desc') o.desc = val()
    else if (a === '--pick') o.pick = val()
    else if (a === '--type') o.types.push(val())
    else if (a === '--only-type') o.onlyType = true
    else if (a === '--proto') o.proto = val()
    else if (a === '--setup') o.setup.push(val())
    else if (a === '--list') o.list = true
    else if (a === '--output') o.output = true
    else usage(`unknown option ${a}`)
  }
  o.command = argv.slice(i)
  if (o.command.length === 0) usage('no command after --')
  if (!o.list && (o.out === undefined || o.desc === undefined)) usage('--out and --desc are required')
  if (o.proto === 'auto') o.proto = ['nft', 'conntrack'].includes(basename(o.command[0])) ? 'netfilter' : 'route'
  if (o.proto !== 'route' && o.proto !== 'netfilter') usage(`--proto must be route, netfilter or auto, not ${o.proto}`)
  return o
}

function typeNumber (t, proto) {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) return Number(t)
  const n = (proto === 'netfilter' ? NF_NAMES : RTM_NAMES)[t.toUpperCase()]
  if (n === undefined) usage(`unknown message type ${t} for protocol ${proto}`)
  return n
}

function typeName (t, proto) {
  const table = proto === 'netfilter' ? NF_NAMES : RTM_NAMES
  for (const [k, v] of Object.entries(table)) if (v === t) return k
  return '0x' + t.toString(16)
}

const shellQuote = (s) => /^[\w@%+=:,./{}-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`

function run (cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.error) throw new Error(`${what}: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status}: ${r.stderr.trim()}`)
  return r
}

const SYSCALL = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(sendmsg|recvmsg|sendto|recvfrom)\((\d+)(?:<([^>]*)>)?, /
const RESUMED = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?<\.\.\. (sendmsg|recvmsg|sendto|recvfrom) resumed>/
const RESULT = /\) = (-?\d+)(?: [A-Z]+.*)?$/
const DUMP = /^ \| ([0-9a-f]{5,})  /

/**
 * Turns strace output into datagrams: { direction, bytes, fd, pid, proto? }.
 * A call's dump lines follow the line that completes it.
 */
export function parseStrace (text) {
  const calls = []
  const unfinished = new Map()
  let current
  const protoOfSocket = new Map() // "pid:fd" → NETLINK protocol name, when strace -yy showed it
  for (const line of text.split('\n')) {
    const dump = DUMP.exec(line)
    if (dump !== null) {
      if (current === undefined) continue
      const off = parseInt(dump[1], 16)
      const hex = line.slice(10, 10 + 49).trim().split(/\s+/).filter(Boolean)
      if (off !== current.chunks.length) {
        // A new buffer of the same call (sendmsg with several iovecs): its dump restarts at 0.
        if (off !== 0) throw new Error(`strace dump out of order at offset ${off}: ${line}`)
      }
      for (const h of hex) current.chunks.push(parseInt(h, 16))
      continue
    }
    if (/^ \* \d+ bytes in buffer \d+/.test(line)) continue
    let m = SYSCALL.exec(line)
    let call
    if (m !== null) {
      const pid = m[1] ?? m[2] ?? '0'
      call = { name: m[3], fd: Number(m[4]), pid, socket: m[5] ?? '', line }
      const sock = /NETLINK:\[([A-Z_]+):/.exec(call.socket)
      if (sock !== null) protoOfSocket.set(`${pid}:${call.fd}`, sock[1])
      if (line.includes('<unfinished ...>')) { unfinished.set(pid, call); current = undefined; continue }
    } else if ((m = RESUMED.exec(line)) !== null) {
      const pid = m[1] ?? m[2] ?? '0'
      call = unfinished.get(pid)
      unfinished.delete(pid)
      if (call === undefined) { current = undefined; continue }
      call.line += line
    } else {
      current = undefined
      continue
    }
    const res = RESULT.exec(line)
    const ret = res === null ? -1 : Number(res[1])
    const peek = call.name.startsWith('recv') && /MSG_PEEK/.test(call.line.slice(call.line.lastIndexOf('}')))
    current = { ...call, ret, peek, chunks: [], direction: call.name.startsWith('send') ? 'request' : 'reply' }
    calls.push(current)
  }
  const out = []
  for (const c of calls) {
    if (c.ret <= 0 || c.peek || c.chunks.length === 0) continue
    if (!c.socket.startsWith('NETLINK')) continue
    // Dumps of a receive cover what was returned; keep exactly that much.
    const bytes = Buffer.from(c.chunks.slice(0, c.ret))
    out.push({ direction: c.direction, bytes, fd: c.fd, pid: c.pid, proto: protoOfSocket.get(`${c.pid}:${c.fd}`) })
  }
  return out
}

/** The nlmsg_types of every message in a datagram (stops at a bad length). */
export function messageTypes (b) {
  const types = []
  let off = 0
  while (off + 16 <= b.length) {
    const len = b.readUInt32LE(off)
    if (len < 16 || off + len > b.length) break
    types.push(b.readUInt16LE(off + 4))
    off += (len + 3) & ~3
  }
  return types
}

function keepOnlyTypes (b, wanted) {
  const parts = []
  let off = 0
  while (off + 16 <= b.length) {
    const len = b.readUInt32LE(off)
    if (len < 16 || off + len > b.length) break
    const next = Math.min(off + ((len + 3) & ~3), b.length)
    if (wanted.has(b.readUInt16LE(off + 4))) parts.push(b.subarray(off, next))
    off = next
  }
  return Buffer.concat(parts)
}

function pick (datagrams, spec) {
  const m = /^(request|reply):(\d+|first|last|all)$/.exec(spec)
  if (m === null) usage(`bad --pick ${spec}`)
  const list = datagrams.filter(d => d.direction === m[1])
  if (list.length === 0) throw new Error(`no ${m[1]} datagram matched (use --list to see what was captured)`)
  if (m[2] === 'all') return list
  const i = m[2] === 'first' ? 0 : m[2] === 'last' ? list.length - 1 : Number(m[2])
  if (i >= list.length) throw new Error(`--pick ${spec}: only ${list.length} ${m[1]} datagrams matched`)
  return [list[i]]
}

function versionOf (tool) {
  if (tool === 'conntrack') return spawnSync('conntrack', ['--version'], { encoding: 'utf8' }).stdout.trim().replace(/^conntrack v(\S+).*/, 'conntrack-tools $1')
  if (tool === 'nft') return spawnSync('nft', ['-v'], { encoding: 'utf8' }).stdout.trim().replace(/^nftables v(\S+).*/, 'nftables $1')
  if (tool === 'ip' || tool === 'bridge') {
    const v = spawnSync('ip', ['-V'], { encoding: 'utf8' }).stdout.trim()
    const m = /iproute2-(\S+?),?\s/.exec(v + ' ')
    return m !== null ? `iproute2 ${m[1]}` : v
  }
  return tool
}

/** ip netns del, retried briefly: it can fail while the namespace's last process is still exiting. */
function deleteNamespace (name) {
  for (let i = 0; i < 10; i++) {
    const r = spawnSync('ip', ['netns', 'del', name], { encoding: 'utf8' })
    if (r.status === 0) return
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
    if (i === 9) process.stderr.write(`record-fixture: could not delete namespace ${name}: ${r.stderr.trim()}\n`)
  }
}

function main () {
  const o = parseArgs(process.argv.slice(2))
  if (process.getuid?.() !== 0) throw new Error('needs root: it creates network namespaces')
  const tag = `rec${process.pid}x${Date.now().toString(36)}`
  const names = { ns: `${tag}a`, ns2: `${tag}b` }
  const subst = (s) => s.replaceAll('{ns}', names.ns).replaceAll('{ns2}', names.ns2)
  const wantsNs2 = [...o.setup, ...o.command].some(s => s.includes('{ns2}'))
  const created = []
  const dir = mkdtempSync(join(tmpdir(), 'record-fixture-'))
  try {
    for (const key of wantsNs2 ? ['ns', 'ns2'] : ['ns']) {
      run('ip', ['netns', 'add', names[key]], `ip netns add ${names[key]}`)
      created.push(names[key])
    }
    for (const s of o.setup) run('ip', ['netns', 'exec', names.ns, 'sh', '-ec', subst(s)], `setup ${JSON.stringify(subst(s))}`)
    const command = o.command.map(subst)
    const traceFile = join(dir, 'strace.txt')
    const straceArgs = ['-f', '-qq', '-yy', '-xx', '-e', 'trace=sendmsg,recvmsg,sendto,recvfrom', '-e', 'write=all', '-e', 'read=all', '-o', traceFile]
    const r = spawnSync('ip', ['netns', 'exec', names.ns, 'strace', ...straceArgs, ...command], { encoding: 'utf8' })
    if (r.error) throw r.error
    const protoName = o.proto === 'netfilter' ? 'NETFILTER' : 'ROUTE'
    let datagrams = parseStrace(readFileSync(traceFile, 'utf8'))
    datagrams = datagrams.filter(d => d.proto === undefined || d.proto === protoName)
    if (o.list) {
      datagrams.forEach((d, i) => {
        const n = datagrams.slice(0, i).filter(x => x.direction === d.direction).length
        process.stdout.write(`${d.direction}:${n}  ${d.bytes.length} bytes  ${messageTypes(d.bytes).map(t => typeName(t, o.proto)).join(' ')}\n`)
      })
      process.stdout.write(`exit status ${r.status}${r.stderr.trim() !== '' ? ': ' + r.stderr.trim() : ''}\n`)
      return
    }
    if (o.types.length > 0) {
      const wanted = new Set(o.types.map(t => typeNumber(t, o.proto)))
      datagrams = datagrams.filter(d => messageTypes(d.bytes).some(t => wanted.has(t)))
      if (o.onlyType) datagrams = datagrams.map(d => ({ ...d, bytes: keepOnlyTypes(d.bytes, wanted) }))
    }
    const chosen = pick(datagrams, o.pick)
    const hex = Buffer.concat(chosen.map(d => d.bytes)).toString('hex')
    const tool = basename(command[0])
    const commandLine = command.map(shellQuote).join(' ')
    const setupText = o.setup.length > 0 ? `; setup (untraced, same namespace): ${o.setup.map(s => JSON.stringify(subst(s))).join(', ')}` : ''
    const status = r.status === 0 ? 'exit status 0' : `exit status ${r.status} (${r.stderr.trim().split('\n').pop()})`
    const filter = (o.types.length > 0 ? ` --type ${o.types.join(',')}` : '') + (o.onlyType ? ' --only-type' : '') + (o.output ? ' --output (stdout kept as "output")' : '')
    const fixture = {
      description: o.desc,
      command: commandLine,
      how: `scripts/record-fixture.mjs --pick ${o.pick}${filter}: fresh netns ${names.ns}${wantsNs2 ? ` (+ ${names.ns2})` : ''}${setupText}; ip netns exec ${names.ns} strace ${straceArgs.slice(0, -2).join(' ')} ${commandLine}; ${status}; NETLINK_${protoName} sockets only`,
      recorded: `${new Date().toISOString().slice(0, 10)}, Linux ${release()}, ${versionOf(tool)}`,
      direction: chosen[0].direction,
      hex
    }
    if (o.output) {
      let output = r.stdout
      try { output = JSON.parse(r.stdout) } catch {}
      fixture.output = output
    }
    mkdirSync(dirname(o.out), { recursive: true })
    writeFileSync(o.out, JSON.stringify(fixture, null, 2) + '\n')
    process.stdout.write(`${o.out}: ${chosen.length} datagram(s), ${hex.length / 2} bytes, ${chosen.map(d => messageTypes(d.bytes).map(t => typeName(t, o.proto)).join(' ')).join(' | ')}\n`)
  } finally {
    for (const n of created.reverse()) deleteNamespace(n)
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // A signal must not skip the namespace cleanup: main() is synchronous, so
  // these handlers run only after its finally block.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { process.exitCode = 130 })
  process.stdout.on('error', () => {}) // e.g. --list piped into head
  try { main() } catch (err) { process.stderr.write(`record-fixture: ${err.message}\n`); process.exit(1) }
}
