/** One demo node: its name and its address on the demo LAN. */
export interface NodeSpec {
  name: string;
  ip: string;
}

/** The demo's services (namespace/name), in narration order. */
export const DEMO_SERVICES = ['demo/web', 'demo/api'];

const MY_ASN = 64513;
const ROUTER_ASN = 64512;

/** MetalLB resources and Services shared by both configuration styles; BGP parts only with a router. */
function resources(bgpPeer: string | undefined): string {
  const docs = [
    `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: demo }
spec: { addresses: [198.51.100.0/28] }`,
    `apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: demo }
spec: { ipAddressPools: [demo], interfaces: [eth0] }`,
  ];
  if (bgpPeer)
    docs.push(
      `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router }
spec: { myASN: ${MY_ASN}, peerASN: ${ROUTER_ASN}, peerAddress: ${bgpPeer}, holdTime: 9s }`,
      `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: demo }
spec: { ipAddressPools: [demo], communities: ['${MY_ASN}:100'] }`,
    );
  DEMO_SERVICES.forEach((key, i) => {
    const [namespace, name] = key.split('/');
    // A cluster IP only picks the family here (nothing is configured with it).
    docs.push(`apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec: { type: LoadBalancer, clusterIPs: [203.0.113.${10 + i}], ports: [{ port: 80 }] }`);
  });
  return docs.join('\n---\n');
}

/** The demo fleet's memberlist secret (a demo value: generate your own, e.g. `openssl rand -base64 16`). */
const DEMO_MEMBERLIST_SECRET = 'ingot-demo-memberlist-secret';

/**
 * The bundled fleet file: one Node document per node (live announcements, gossip with the other two, status on the
 * node's LAN address so the client can read it, service IPs delivered locally) plus the shared resources.
 */
export function fleetConfig(nodes: NodeSpec[], opts: { bgpPeer: string | undefined; statusPort: number }): string {
  const nodeDocs = nodes.map(
    (n) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${n.name} }
spec:
  announce: live
  interfaces: [eth0]
  memberlist:
    bindAddress: ${n.ip}:7946
    join: [${nodes
      .filter((o) => o !== n)
      .map((o) => `${o.ip}:7946`)
      .join(', ')}]
    secret: ${DEMO_MEMBERLIST_SECRET}
  bgp: { routerID: ${n.ip}, sourceAddress: ${n.ip} }
  statusAddress: ${n.ip}:${opts.statusPort}
  dataPath: local`,
  );
  return `# ingot demo: a three-node fleet (the same file on every node)\n${[...nodeDocs, resources(opts.bgpPeer)].join('\n---\n')}\n`;
}

/** bgpd.conf of the demo router: eBGP with every node, accept everything. */
export function frrConfig(nodes: NodeSpec[], routerIp: string, logFile: string): string {
  const lines = [
    'hostname demo-router',
    `log file ${logFile}`,
    `router bgp ${ROUTER_ASN}`,
    ` bgp router-id ${routerIp}`,
    ' no bgp ebgp-requires-policy',
  ];
  for (const n of nodes) lines.push(` neighbor ${n.ip} remote-as ${MY_ASN}`, ` neighbor ${n.ip} timers connect 1`);
  lines.push('!');
  return `${lines.join('\n')}\n`;
}
