// Upstream's calcGateways on the IPAM result: every IP belongs to the
// container interface (index 2), a missing gateway becomes the subnet's first
// address when the bridge is the gateway, isDefaultGateway adds a default
// route per family, and the bridge's gateway addresses are collected.
import type { IPConfig, Route } from '../../cni/result.js'
import { firstHost, formatAddress, isDefaultRoute, isIPv4Text, parseIPNet, type IPNet } from '../../netlink/addr.js'

/** Index of the container interface in the result's interfaces. */
export const CONTAINER_INTERFACE_INDEX = 2

export interface FamilyGateways {
  family: 4 | 6
  /** Gateway addresses for the bridge, each with its container address's prefix length. */
  gateways: IPNet[]
}

export interface GatewayPlan {
  v4: FamilyGateways
  v6: FamilyGateways
}

export interface GatewayOptions {
  isGateway: boolean
  isDefaultGateway: boolean
}

/**
 * Rewrites ips (interface index, gateway) and routes (default routes) in
 * place, as upstream does, and returns the bridge gateway addresses per
 * family. One deliberate fix: an IPAM default route without a gateway counts
 * as the family's default route, so isDefaultGateway does not add the same
 * route a second time (upstream then fails with "file exists").
 */
export function calcGateways (ips: IPConfig[], routes: Route[], o: GatewayOptions): GatewayPlan {
  const plan: GatewayPlan = { v4: { family: 4, gateways: [] }, v6: { family: 6, gateways: [] } }
  const defaultFound = { 4: false, 6: false }
  for (const ipc of ips) {
    const net = parseIPNet(ipc.address)
    if (net === undefined) throw new Error(`Unknown IP object: ${JSON.stringify(ipc)}`)
    const family = net.address.length === 4 ? 4 : 6
    ipc.interface = CONTAINER_INTERFACE_INDEX
    if (ipc.gateway === undefined && o.isGateway) ipc.gateway = formatAddress(firstHost(net))

    if (o.isDefaultGateway && !defaultFound[family]) {
      defaultFound[family] = routes.some(r => isDefaultRoute(r.dst) && familyOfText(r.dst) === family)
      if (!defaultFound[family]) {
        const route: Route = { dst: family === 4 ? '0.0.0.0/0' : '::/0' }
        if (ipc.gateway !== undefined) route.gw = ipc.gateway
        routes.push(route)
        defaultFound[family] = true
      }
    }

    if (o.isGateway && ipc.gateway !== undefined) {
      const gw = parseIPNet(ipc.gateway)
      if (gw === undefined) throw new Error(`invalid gateway ${JSON.stringify(ipc.gateway)} for ${ipc.address}`)
      // The gateway carries the container address's mask (upstream).
      const target = family === 4 ? plan.v4 : plan.v6
      target.gateways.push({ address: gw.address, prefixLength: net.prefixLength })
    }
  }
  return plan
}

function familyOfText (cidr: string): 4 | 6 {
  return isIPv4Text(cidr) ? 4 : 6
}
