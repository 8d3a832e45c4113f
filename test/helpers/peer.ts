// A "peer" namespace on a veth wire from a test's node namespace that knows
// nothing of the pod subnets: a pod reaches it only when its traffic is
// masqueraded by the node (the peer then sees the node's address).
import { ip, makeNamespace } from './bridge.js'

interface Teardown { teardown: (fn: () => void | Promise<void>) => void }

export const NODE_V4 = '192.168.251.1'
export const PEER_V4 = '192.168.251.2'
export const NODE_V6 = 'fd99::1'
export const PEER_V6 = 'fd99::2'

export function addPeer (t: Teardown, node: string): string {
  const peer = makeNamespace(t, 'mq-peer')
  ip(node, 'link', 'add', 'wire0', 'type', 'veth', 'peer', 'name', 'wire1', 'netns', peer)
  ip(node, 'addr', 'add', `${NODE_V4}/30`, 'dev', 'wire0')
  ip(node, 'addr', 'add', `${NODE_V6}/64`, 'dev', 'wire0', 'nodad')
  ip(node, 'link', 'set', 'wire0', 'up')
  ip(peer, 'addr', 'add', `${PEER_V4}/30`, 'dev', 'wire1')
  ip(peer, 'addr', 'add', `${PEER_V6}/64`, 'dev', 'wire1', 'nodad')
  ip(peer, 'link', 'set', 'wire1', 'up')
  ip(peer, 'link', 'set', 'lo', 'up')
  return peer
}
