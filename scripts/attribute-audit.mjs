#!/usr/bin/env node
// What the kernel here actually sends, attribute by attribute: walks every
// kernel-reply fixture (fixtures/*/ "direction": "reply") and records, per
// attribute scope and type, the payload lengths and nla_type flags seen.
//
//   node scripts/attribute-audit.mjs            # a markdown table on stdout
//   node scripts/attribute-audit.mjs --json     # { "IFLA_VXLAN": { "28": { lengths: [1], flags: [0], fixtures: […] } }, … }
//
// Scopes follow the nests the codecs decode: IFLA, IFLA_INFO, the kind data
// (IFLA_BR, IFLA_VXLAN, IFLA_MACVLAN, IFLA_VLAN, VETH), IFLA_BRPORT (slave
// data and AF_BRIDGE protinfo), IFLA_BRIDGE (AF_BRIDGE af_spec), IFA, RTA,
// RTAX (RTA_METRICS), RTA_NEXTHOP (inside RTA_MULTIPATH), NDA, FRA, NHA,
// NHA_RES_GROUP. fixtures/ATTRIBUTES.md puts these lengths beside what the
// codecs read and what the kernel source writes.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const DIRS = ['link', 'addr', 'route', 'neigh', 'rule', 'nexthop']
const KIND_SCOPE = { bridge: 'IFLA_BR', vxlan: 'IFLA_VXLAN', macvlan: 'IFLA_MACVLAN', macvtap: 'IFLA_MACVLAN', vlan: 'IFLA_VLAN', veth: 'VETH' }
const AF_BRIDGE = 7

function* attributes (b, start, end) {
  let p = start
  while (p + 4 <= end) {
    const len = b.readUInt16LE(p)
    if (len < 4 || p + len > end) return
    const raw = b.readUInt16LE(p + 2)
    yield { type: raw & 0x3fff, flags: raw & 0xc000, start: p + 4, end: p + len }
    p += (len + 3) & ~3
  }
}

export function observe () {
  const seen = {}
  const note = (scope, a, fixture) => {
    const s = (seen[scope] ??= {})
    const e = (s[a.type] ??= { lengths: new Set(), flags: new Set(), fixtures: new Set() })
    e.lengths.add(a.end - a.start); e.flags.add(a.flags); e.fixtures.add(fixture)
  }
  const walk = (scope, b, start, end, fixture, nests = {}) => {
    for (const a of attributes(b, start, end)) {
      note(scope, a, fixture)
      const inner = nests[a.type]
      if (inner !== undefined) inner(a)
    }
  }
  for (const dir of DIRS) {
    for (const file of readdirSync(join(root, 'fixtures', dir)).filter(f => f.endsWith('.json'))) {
      const f = JSON.parse(readFileSync(join(root, 'fixtures', dir, file), 'utf8'))
      if (f.direction !== 'reply') continue
      const b = Buffer.from(f.hex, 'hex')
      const name = `${dir}/${file.slice(0, -5)}`
      for (let off = 0; off + 16 <= b.length;) {
        const len = b.readUInt32LE(off)
        if (len < 16 || off + len > b.length) break
        const type = b.readUInt16LE(off + 4)
        const s = off + 16
        const e = off + len
        if (type === 16 || type === 17) {
          const family = b[s]
          walk('IFLA', b, s + 16, e, name, {
            18: (li) => {
              let kind
              walk('IFLA_INFO', b, li.start, li.end, name, {
                1: (k) => { kind = b.toString('latin1', k.start, k.end).replace(/\0+$/, '') },
                2: (d) => { if (KIND_SCOPE[kind] !== undefined) walk(KIND_SCOPE[kind], b, d.start, d.end, name) },
                5: (d) => walk('IFLA_BRPORT', b, d.start, d.end, name)
              })
            },
            12: (p) => { if (family === AF_BRIDGE) walk('IFLA_BRPORT', b, p.start, p.end, name) },
            26: (p) => { if (family === AF_BRIDGE) walk('IFLA_BRIDGE', b, p.start, p.end, name) }
          })
        } else if (type === 20 || type === 21) {
          walk('IFA', b, s + 8, e, name)
        } else if (type === 24 || type === 25) {
          walk('RTA', b, s + 12, e, name, {
            8: (m) => walk('RTAX', b, m.start, m.end, name),
            9: (m) => {
              for (let p = m.start; p + 8 <= m.end;) {
                const l = b.readUInt16LE(p)
                if (l < 8 || p + l > m.end) break
                walk('RTA_NEXTHOP', b, p + 8, p + l, name)
                p += (l + 3) & ~3
              }
            }
          })
        } else if (type === 28 || type === 29) {
          walk('NDA', b, s + 12, e, name)
        } else if (type === 32 || type === 33) {
          walk('FRA', b, s + 12, e, name)
        } else if (type === 104 || type === 105) {
          walk('NHA', b, s + 8, e, name, { 12: (g) => walk('NHA_RES_GROUP', b, g.start, g.end, name) })
        }
        off += (len + 3) & ~3
      }
    }
  }
  const out = {}
  for (const [scope, types] of Object.entries(seen)) {
    out[scope] = {}
    for (const [t, e] of Object.entries(types)) {
      out[scope][t] = { lengths: [...e.lengths].sort((x, y) => x - y), flags: [...e.flags].sort(), fixtures: [...e.fixtures].sort() }
    }
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seen = observe()
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(seen, null, 1) + '\n')
  } else {
    process.stdout.write('| scope | type | payload bytes | flags | fixtures |\n|---|---|---|---|---|\n')
    for (const [scope, types] of Object.entries(seen)) {
      for (const [t, e] of Object.entries(types)) {
        process.stdout.write(`| ${scope} | ${t} | ${e.lengths.join(', ')} | ${e.flags.map(f => '0x' + f.toString(16)).join(', ')} | ${e.fixtures.length} |\n`)
      }
    }
  }
}
