// The kernel's defaults of the sysctls the tests assert on (or whose value
// changes what they observe), written into every network namespace a test
// creates, so that no result depends on the machine's root namespace.
//
// A new namespace does not start from the kernel's defaults: with
// net.core.devconf_inherit_init_net=0 (the default) it copies IPv4's
// conf/all and conf/default from the root namespace, so on a host with
// net.ipv4.ip_forward=1 (every Kubernetes node and Docker host) it starts
// with forwarding on; with 1 or 3 it copies IPv6's too. Values from
// Documentation/networking/ip-sysctl.rst, as a fresh namespace shows them
// for IPv6 under devconf_inherit_init_net=0.
import { execFileSync } from 'node:child_process'

export const KERNEL_DEFAULTS: ReadonlyArray<readonly [key: string, value: string]> = [
  ['net/ipv4/ip_forward', '0'], // = conf/all/forwarding, applied to every interface
  ['net/ipv4/conf/default/forwarding', '0'],
  ['net/ipv4/conf/all/rp_filter', '0'],
  ['net/ipv4/conf/default/rp_filter', '0'],
  ['net/ipv4/conf/all/arp_notify', '0'],
  ['net/ipv4/conf/default/arp_notify', '0'],
  ['net/ipv6/conf/all/forwarding', '0'],
  ['net/ipv6/conf/default/forwarding', '0'],
  ['net/ipv6/conf/all/disable_ipv6', '0'],
  ['net/ipv6/conf/default/disable_ipv6', '0'],
  ['net/ipv6/conf/all/accept_ra', '1'],
  ['net/ipv6/conf/default/accept_ra', '1'],
  ['net/ipv6/conf/default/autoconf', '1'],
  ['net/ipv6/conf/default/accept_dad', '1'],
  ['net/ipv6/conf/default/enhanced_dad', '1'],
  ['net/ipv6/conf/default/ndisc_notify', '0'],
  ['net/ipv6/conf/default/keep_addr_on_down', '0']
]

/** Writes KERNEL_DEFAULTS inside the named namespace (never the root one). */
export function setKernelDefaults (netns: string): void {
  execFileSync('ip', ['netns', 'exec', netns, 'sh', '-ec', KERNEL_DEFAULTS.map(([k, v]) => `echo ${v} > /proc/sys/${k}`).join('\n')],
    { stdio: ['ignore', 'ignore', 'pipe'] })
}
