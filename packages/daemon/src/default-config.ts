/**
 * The configuration `ingot run` uses when no `--config` is given: one documentation-range pool announced in layer-2 mode,
 * and two sample Services (standalone mode) so the controller has something to allocate.
 */
export const DEFAULT_CONFIG_YAML = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: default
  namespace: metallb-system
spec:
  addresses:
    - 192.0.2.240-192.0.2.250
    - 2001:db8:0:1::f0/124
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: default
  namespace: metallb-system
spec:
  ipAddressPools: [default]
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  type: LoadBalancer
  clusterIPs: [198.51.100.10]
  ports: [{ protocol: TCP, port: 80 }]
  selector: { app: web }
---
apiVersion: v1
kind: Service
metadata:
  name: dns
  namespace: demo
  annotations:
    metallb.io/allow-shared-ip: dns
spec:
  type: LoadBalancer
  clusterIPs: [198.51.100.53, '2001:db8:96::53']
  ipFamilyPolicy: PreferDualStack
  ports: [{ protocol: UDP, port: 53 }]
  selector: { app: dns }
`;
