// NetlinkSocket.open finds the fd of the socket it made (for socket options)
// also when another of our sockets, in another namespace, has the same port
// id: ids are per namespace, and the `netlink` addon's ids repeat after 1,024
// sockets (pid | counter << 22). The agent, with sockets in many namespaces
// and thousands opened over its life, once failed here with "more than one
// file descriptor … is netlink socket <port>". Root only: creates namespaces.
import t from 'tap'
import { readlinkSync } from 'node:fs'
import { NetlinkSocket } from '../../src/netlink/socket.js'
import { LinkService } from '../../src/netlink/route/links.js'
import { rootSkip, withNamespaces } from '../helpers/netns.js'

t.test('a strict socket whose port id another namespace\'s socket of ours has gets its own fd', { skip: rootSkip }, async t => {
  const [a, b] = withNamespaces(t, 2)
  const sa = NetlinkSocket.open({ namespace: a!.ns, strictCheck: true })
  t.teardown(() => { sa.close() })
  let sb: NetlinkSocket | undefined
  for (let i = 0; i < 4096 && sb === undefined; i++) {
    const s = NetlinkSocket.open({ namespace: b!.ns, strictCheck: true })
    if (s.port === sa.port) sb = s
    else s.close()
  }
  t.ok(sb !== undefined, 'a socket in the other namespace got the same port id')
  if (sb === undefined) return
  t.teardown(() => { sb!.close() })
  const fdOf = (s: NetlinkSocket): number => (s as unknown as { fd: number }).fd
  t.not(fdOf(sa), fdOf(sb), 'two fds')
  t.not(readlinkSync(`/proc/self/fd/${fdOf(sa)}`), readlinkSync(`/proc/self/fd/${fdOf(sb)}`), 'two sockets')
  // Each works in its own namespace, with its strict (kernel-filtered) dumps.
  b!.ip('link', 'add', 'only-in-b', 'type', 'veth', 'peer', 'name', 'only-in-b1')
  t.same((await new LinkService(sa).list()).map(l => l.name).sort(), ['lo'])
  t.same((await new LinkService(sb).list()).map(l => l.name).sort(), ['lo', 'only-in-b', 'only-in-b1'])
})
