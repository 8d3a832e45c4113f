// Expected values copied from upstream's own tests, so that our tests check
// the plugins against an oracle that is not our own formula. Only the inputs
// and the expected strings are copied; each block names its source.

/**
 * containernetworking/plugins pkg/ip/ipmasq_nftables_linux_test.go
 * (Test_setupIPMasqNFTables, as of commit 61d078645a6d2a2391a1555ecda3d0a080a45831):
 * the comment of each `masq_checks` rule for the (network, ifname,
 * containerID) it was set up for.
 */
export const UPSTREAM_MASQ_COMMENTS = [
  { network: 'unit-test', ifname: 'eth0', containerID: 'one', comment: '6fd94d501e58f0aa-287fc69eff0574a2, net: unit-test, if: eth0, id: one' },
  { network: 'unit-test', ifname: 'eth0', containerID: 'two', comment: '6fd94d501e58f0aa-d750b2c8f0f25d5f, net: unit-test, if: eth0, id: two' },
  { network: 'unit-test', ifname: 'eth0', containerID: 'three', comment: '6fd94d501e58f0aa-a4d4adb82b669cfe, net: unit-test, if: eth0, id: three' },
  { network: 'alternate', ifname: 'net1', containerID: 'three', comment: '82783ef24bdc7036-acb19d111858e348, net: alternate, if: net1, id: three' },
  { network: 'unit-test', ifname: 'eth0', containerID: 'four', comment: '6fd94d501e58f0aa-e766de567ef6c543, net: unit-test, if: eth0, id: four' }
] as const
