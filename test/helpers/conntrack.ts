// The conntrack program's view of a table, as an oracle for ctnetlink tests:
// `conntrack -L -o xml` (or -G -o xml) parsed into plain flows, and our
// decoded entries projected onto the same fields. Only what the XML shows is
// compared (ICMP ids and the TCP window scales are not in it).
import { IPS_ASSURED, IPS_SEEN_REPLY, type ConntrackEntry, type ConntrackTuple } from '../../src/netlink/index.js'

export interface XmlDirection {
  l3: number
  protocol: number
  src: string
  dst: string
  sport?: number
  dport?: number
  packets?: number
  bytes?: number
}

export interface XmlFlow {
  original: XmlDirection
  reply: XmlDirection
  state?: string
  timeout?: number
  mark?: number
  zone?: number
  use?: number
  id?: number
  assured: boolean
  unreplied: boolean
}

const num = (s: string | undefined): number | undefined => s === undefined ? undefined : Number(s)
const tag = (xml: string, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]

function direction (xml: string): XmlDirection {
  const l3 = /<layer3 protonum="(\d+)"/.exec(xml)
  const l4 = /<layer4 protonum="(\d+)"/.exec(xml)
  const layer4 = /<layer4[^>]*>(.*?)<\/layer4>/.exec(xml)?.[1] ?? ''
  const counters = /<counters>(.*?)<\/counters>/.exec(xml)?.[1]
  const d: XmlDirection = { l3: Number(l3?.[1]), protocol: Number(l4?.[1]), src: tag(xml, 'src') ?? '', dst: tag(xml, 'dst') ?? '' }
  const sport = num(tag(layer4, 'sport')); const dport = num(tag(layer4, 'dport'))
  if (sport !== undefined) d.sport = sport
  if (dport !== undefined) d.dport = dport
  if (counters !== undefined) { d.packets = Number(tag(counters, 'packets')); d.bytes = Number(tag(counters, 'bytes')) }
  return d
}

/** Every <flow> of conntrack's XML output. */
export function parseConntrackXml (xml: string): XmlFlow[] {
  const flows: XmlFlow[] = []
  for (const m of xml.matchAll(/<flow>(.*?)<\/flow>/g)) {
    const body = m[1]!
    const meta = (dir: string): string => new RegExp(`<meta direction="${dir}">(.*?)</meta>`).exec(body)?.[1] ?? ''
    const ind = meta('independent')
    const f: XmlFlow = { original: direction(meta('original')), reply: direction(meta('reply')), assured: ind.includes('<assured/>'), unreplied: ind.includes('<unreplied/>') }
    const state = tag(ind, 'state'); if (state !== undefined) f.state = state
    for (const k of ['timeout', 'mark', 'zone', 'use', 'id'] as const) {
      const v = num(tag(ind, k))
      if (v !== undefined) f[k] = v
    }
    flows.push(f)
  }
  return flows
}

function projectTuple (e: ConntrackEntry, t: ConntrackTuple, counters: { packets: bigint, bytes: bigint } | undefined): XmlDirection {
  const d: XmlDirection = { l3: e.family, protocol: t.protocol, src: t.src, dst: t.dst }
  if (t.srcPort !== undefined) d.sport = t.srcPort
  if (t.dstPort !== undefined) d.dport = t.dstPort
  if (counters !== undefined) { d.packets = Number(counters.packets); d.bytes = Number(counters.bytes) }
  return d
}

/** Our entry seen as conntrack's XML shows it. */
export function asXmlFlow (e: ConntrackEntry): XmlFlow {
  const f: XmlFlow = {
    original: projectTuple(e, e.original, e.counters?.original),
    reply: projectTuple(e, e.reply, e.counters?.reply),
    assured: (e.status & IPS_ASSURED) !== 0,
    unreplied: (e.status & IPS_SEEN_REPLY) === 0
  }
  if (e.tcp !== undefined) f.state = e.tcp.stateName
  if (e.timeout !== undefined) f.timeout = e.timeout
  if (e.mark !== undefined) f.mark = e.mark
  if (e.zone !== undefined) f.zone = e.zone
  if (e.use !== undefined) f.use = e.use
  if (e.id !== undefined) f.id = e.id
  return f
}
