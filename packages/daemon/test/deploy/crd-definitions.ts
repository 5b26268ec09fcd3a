/**
 * The source of `deploy/crds/*.yaml`: Ingot's own CustomResourceDefinitions for the `metallb.io` API, written to be
 * schema-compatible with MetalLB's (same group, versions, kinds, field names, types, defaults, printer columns), so a
 * cluster's existing MetalLB objects stay valid when these are applied over MetalLB's CRDs.
 *
 * Regenerate the YAML with `UPDATE_CRDS=1 npx vitest run test/deploy/crds.test.ts` (in packages/daemon); the test
 * fails while the committed files differ from what this module produces.
 */

type Schema = Record<string, unknown>;

const str = (description: string): Schema => ({ type: 'string', description });
const bool = (description: string, dflt?: boolean): Schema => ({
  type: 'boolean',
  description,
  ...(dflt !== undefined ? { default: dflt } : {}),
});
const int32 = (description: string, extra: Schema = {}): Schema => ({
  type: 'integer',
  format: 'int32',
  description,
  ...extra,
});
const int64 = (description: string): Schema => ({ type: 'integer', format: 'int64', description });
const strings = (description: string): Schema => ({ type: 'array', description, items: { type: 'string' } });
const immutable = (schema: Schema): Schema => ({
  ...schema,
  'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'Value is immutable' }],
});

/** A Kubernetes `metav1.LabelSelector`. */
const labelSelector = (): Schema => ({
  type: 'object',
  description: 'A label query: matchLabels and matchExpressions are ANDed; an empty selector matches everything.',
  properties: {
    matchLabels: {
      type: 'object',
      description: 'Labels that must all be present with these values.',
      additionalProperties: { type: 'string' },
    },
    matchExpressions: {
      type: 'array',
      description: 'Requirements that must all hold.',
      items: {
        type: 'object',
        description: 'A key, an operator (In, NotIn, Exists, DoesNotExist) and values.',
        required: ['key', 'operator'],
        properties: {
          key: str('The label key.'),
          operator: str('In, NotIn, Exists or DoesNotExist.'),
          values: {
            type: 'array',
            description: 'Values for In and NotIn; empty for Exists and DoesNotExist.',
            items: { type: 'string' },
            'x-kubernetes-list-type': 'atomic',
          },
        },
      },
      'x-kubernetes-list-type': 'atomic',
    },
  },
  'x-kubernetes-map-type': 'atomic',
});
const selectors = (description: string): Schema => ({ type: 'array', description, items: labelSelector() });

interface Column {
  name: string;
  jsonPath: string;
  type: string;
  priority?: number;
}

interface Version {
  name: string;
  storage: boolean;
  deprecationWarning?: string;
  description: string;
  spec?: Schema;
  status?: Schema;
  specRequired?: boolean;
  columns?: Column[];
}

interface Crd {
  kind: string;
  plural: string;
  versions: Version[];
  conversion?: boolean;
}

/** The conversion webhook's Service (the controller serves it; see deploy/webhook.yaml). */
export const WEBHOOK_SERVICE = { namespace: 'metallb-system', name: 'ingot-webhook-service' } as const;

function crd(def: Crd): Schema {
  const singular = def.kind.toLowerCase();
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.metallb.io`,
      labels: { 'app.kubernetes.io/part-of': 'ingot' },
    },
    spec: {
      group: 'metallb.io',
      names: { kind: def.kind, listKind: `${def.kind}List`, plural: def.plural, singular },
      scope: 'Namespaced',
      ...(def.conversion
        ? {
            conversion: {
              strategy: 'Webhook',
              webhook: {
                conversionReviewVersions: ['v1'],
                clientConfig: { service: { ...WEBHOOK_SERVICE, path: '/convert' } },
              },
            },
          }
        : {}),
      versions: def.versions.map((v) => ({
        name: v.name,
        served: true,
        storage: v.storage,
        ...(v.deprecationWarning ? { deprecated: true, deprecationWarning: v.deprecationWarning } : {}),
        ...(v.columns ? { additionalPrinterColumns: v.columns } : {}),
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: v.description,
            properties: {
              apiVersion: str('The versioned schema of this object.'),
              kind: str('The REST resource this object represents.'),
              metadata: { type: 'object' },
              ...(v.spec ? { spec: v.spec } : {}),
              status: v.status ?? { type: 'object', description: 'Unused.' },
            },
            ...(v.specRequired ? { required: ['spec'] } : {}),
          },
        },
      })),
    },
  };
}

const ipAddressPool = crd({
  kind: 'IPAddressPool',
  plural: 'ipaddresspools',
  versions: [
    {
      name: 'v1beta1',
      storage: true,
      description: 'A pool of IP addresses that can be allocated to LoadBalancer Services.',
      specRequired: true,
      columns: [
        { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign' },
        { name: 'Avoid Buggy IPs', type: 'boolean', jsonPath: '.spec.avoidBuggyIPs' },
        { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses' },
      ],
      spec: {
        type: 'object',
        description: 'The addresses and how they are handed out.',
        required: ['addresses'],
        properties: {
          addresses: strings('CIDR prefixes or start-end ranges; they share the pool settings.'),
          autoAssign: bool('When false, only Services asking for this pool or one of its IPs get an address.', true),
          avoidBuggyIPs: bool('Never hand out IPv4 addresses ending in .0 or .255.', false),
          serviceAllocation: {
            type: 'object',
            description: 'Reserve the pool for some namespaces or Services, with a priority among matching pools.',
            properties: {
              priority: { type: 'integer', description: 'Lower is preferred; unset (0) is tried last.' },
              namespaces: strings('Namespaces whose Services may use the pool.'),
              namespaceSelectors: selectors('Namespaces, by label, whose Services may use the pool.'),
              serviceSelectors: selectors('Services, by label, that may use the pool.'),
            },
          },
        },
      },
      status: {
        type: 'object',
        description: 'Address counts, written by the controller.',
        required: ['assignedIPv4', 'assignedIPv6', 'availableIPv4', 'availableIPv6'],
        properties: {
          assignedIPv4: int64('IPv4 addresses assigned to Services.'),
          assignedIPv6: int64('IPv6 addresses assigned to Services.'),
          availableIPv4: int64('IPv4 addresses still free.'),
          availableIPv6: int64('IPv6 addresses still free.'),
        },
      },
    },
  ],
});

const poolChoice = {
  ipAddressPools: strings('Pools advertised, by name. With no names and no selectors: every pool.'),
  ipAddressPoolSelectors: selectors('Pools advertised, by label.'),
  nodeSelectors: selectors('Nodes that announce; all nodes when empty.'),
};

const l2Advertisement = crd({
  kind: 'L2Advertisement',
  plural: 'l2advertisements',
  versions: [
    {
      name: 'v1beta1',
      storage: true,
      description: 'Announces the IPs of the selected pools with ARP and NDP.',
      columns: [
        { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
        { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
        { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces' },
        { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 10 },
      ],
      spec: {
        type: 'object',
        description: 'Which pools, from which nodes and interfaces.',
        properties: {
          ...poolChoice,
          interfaces: strings('Interfaces to answer on; all interfaces when empty.'),
          serviceSelectors: selectors('Services announced, by label; all when empty.'),
          preferredNodeSelectors: {
            type: 'array',
            description: 'Soft preferences among the eligible nodes: the sum of matching weights ranks a node.',
            items: {
              type: 'object',
              required: ['weight', 'preference'],
              properties: {
                weight: int32('Weight of this preference.', { minimum: 1, maximum: 100 }),
                preference: { ...labelSelector(), description: 'Nodes this preference favours.' },
              },
            },
          },
        },
      },
    },
  ],
});

const bgpAdvertisement = crd({
  kind: 'BGPAdvertisement',
  plural: 'bgpadvertisements',
  versions: [
    {
      name: 'v1beta1',
      storage: true,
      description: 'Advertises the IPs of the selected pools over BGP, with these attributes.',
      columns: [
        { name: 'IPAddressPools', type: 'string', jsonPath: '.spec.ipAddressPools' },
        { name: 'IPAddressPool Selectors', type: 'string', jsonPath: '.spec.ipAddressPoolSelectors' },
        { name: 'Peers', type: 'string', jsonPath: '.spec.peers' },
        { name: 'Node Selectors', type: 'string', jsonPath: '.spec.nodeSelectors', priority: 10 },
      ],
      spec: {
        type: 'object',
        description: 'Which pools, to which peers, from which nodes, with which attributes.',
        properties: {
          aggregationLength: int32('IPv4 prefix length advertised (32: each address alone).', {
            default: 32,
            minimum: 1,
          }),
          aggregationLengthV6: int32('IPv6 prefix length advertised (128: each address alone).', { default: 128 }),
          localPref: int32('LOCAL_PREF sent to iBGP peers.'),
          communities: strings('Communities: A:B, large:A:B:C, or the name of a Community alias.'),
          ...poolChoice,
          peers: strings('BGPPeer names advertised to; all peers when empty.'),
          serviceSelectors: selectors('Services advertised, by label; all when empty.'),
        },
        'x-kubernetes-validations': [
          {
            rule: '!has(self.serviceSelectors) || size(self.serviceSelectors) == 0 || ((!has(self.aggregationLength) || self.aggregationLength == 32) && (!has(self.aggregationLengthV6) || self.aggregationLengthV6 == 128))',
            message: 'serviceSelectors can only be used with the default aggregation lengths (32 and 128)',
          },
        ],
      },
    },
  ],
});

const peerColumns: Column[] = [
  { name: 'Address', type: 'string', jsonPath: '.spec.peerAddress' },
  { name: 'ASN', type: 'string', jsonPath: '.spec.peerASN' },
  { name: 'BFD Profile', type: 'string', jsonPath: '.spec.bfdProfile' },
  { name: 'Multi Hops', type: 'string', jsonPath: '.spec.ebgpMultiHop' },
];
const asn = (description: string): Schema => int32(description, { minimum: 0, maximum: 4294967295 });

const bgpPeer = crd({
  kind: 'BGPPeer',
  plural: 'bgppeers',
  conversion: true,
  versions: [
    {
      name: 'v1beta1',
      storage: false,
      deprecationWarning: 'v1beta1 is deprecated, please use v1beta2',
      description: 'A BGP session to a router (deprecated version; converted to v1beta2).',
      columns: peerColumns,
      spec: {
        type: 'object',
        description: 'The session.',
        required: ['myASN', 'peerASN', 'peerAddress'],
        properties: {
          myASN: asn('Local AS number.'),
          peerASN: asn('Remote AS number.'),
          peerAddress: str('Address to connect to.'),
          sourceAddress: str('Local address of the connection.'),
          peerPort: { type: 'integer', description: 'TCP port to connect to.', minimum: 0, maximum: 16384 },
          holdTime: str('Requested hold time (a duration such as 90s).'),
          keepaliveTime: str('Requested keepalive time.'),
          routerID: str('BGP identifier sent to the peer.'),
          nodeSelectors: {
            type: 'array',
            description: 'Only nodes matching one of these have the session.',
            items: {
              type: 'object',
              properties: {
                matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
                matchExpressions: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['key', 'operator', 'values'],
                    properties: {
                      key: { type: 'string' },
                      operator: { type: 'string' },
                      values: { type: 'array', minItems: 1, items: { type: 'string' } },
                    },
                  },
                },
              },
            },
          },
          password: str('TCP MD5 password.'),
          bfdProfile: { type: 'string' },
          ebgpMultiHop: bool('The peer is several hops away.'),
        },
      },
    },
    {
      name: 'v1beta2',
      storage: true,
      description: 'A BGP session to a router.',
      columns: peerColumns,
      spec: {
        type: 'object',
        description: 'The session.',
        required: ['myASN'],
        properties: {
          myASN: asn('Local AS number.'),
          peerASN: asn('Remote AS number; exactly one of peerASN and dynamicASN.'),
          dynamicASN: {
            type: 'string',
            enum: ['internal', 'external'],
            description: 'Accept any remote AS that is internal (equal to myASN) or external (different).',
          },
          localASN: int32('AS number presented to the peer instead of myASN (FRR modes only).', {
            minimum: 1,
            maximum: 4294967295,
          }),
          peerAddress: str('Address to connect to; exactly one of peerAddress and interface.'),
          interface: str('Interface for an unnumbered session.'),
          sourceAddress: str('Local address of the connection.'),
          peerPort: {
            type: 'integer',
            description: 'TCP port to connect to.',
            default: 179,
            minimum: 0,
            maximum: 16384,
          },
          holdTime: str('Requested hold time (a duration such as 90s).'),
          keepaliveTime: str('Requested keepalive time.'),
          connectTime: {
            type: 'string',
            description: 'Time between connection attempts (whole seconds, 1 to 65535).',
            'x-kubernetes-validations': [
              {
                rule: 'duration(self).getSeconds() >= 1 && duration(self).getSeconds() <= 65535',
                message: 'connect time should be between 1 seconds to 65535',
              },
              {
                rule: 'duration(self).getMilliseconds() % 1000 == 0',
                message: 'connect time should contain a whole number of seconds',
              },
            ],
          },
          routerID: str('BGP identifier sent to the peer; default: the local address of the session.'),
          nodeSelectors: selectors('Only nodes matching one of these have the session.'),
          password: str('TCP MD5 password.'),
          passwordSecret: {
            type: 'object',
            description:
              'A kubernetes.io/basic-auth Secret in the MetalLB namespace holding the password (key password).',
            properties: { name: str('Secret name.'), namespace: str('Secret namespace.') },
            'x-kubernetes-map-type': 'atomic',
          },
          bfdProfile: str('BFDProfile for a BFD session alongside this BGP session.'),
          enableGracefulRestart: {
            ...bool('BGP graceful restart (FRR modes only). Cannot change after creation.'),
            'x-kubernetes-validations': [
              { rule: 'self == oldSelf', message: 'EnableGracefulRestart cannot be changed after creation' },
            ],
          },
          ebgpMultiHop: bool('The peer is several hops away.'),
          vrf: str('Host VRF of the session (FRR modes only).'),
          disableMP: bool('Separate IPv4 and IPv6 sessions (deprecated).', false),
          dualStackAddressFamily: bool('Advertise both address families over this session (FRR modes only).', false),
        },
      },
    },
  ],
});

const community = crd({
  kind: 'Community',
  plural: 'communities',
  versions: [
    {
      name: 'v1beta1',
      storage: true,
      description: 'Named aliases for BGP communities, usable in BGPAdvertisements.',
      spec: {
        type: 'object',
        description: 'The aliases.',
        properties: {
          communities: {
            type: 'array',
            description: 'Alias name and community value pairs.',
            items: {
              type: 'object',
              properties: {
                name: str('The alias.'),
                value: str('A:B (16 bits each) or large:A:B:C (32 bits each).'),
              },
            },
          },
        },
      },
    },
  ],
});

const ms = (description: string): Schema => int32(description, { minimum: 10, maximum: 60000 });
const bfdProfile = crd({
  kind: 'BFDProfile',
  plural: 'bfdprofiles',
  versions: [
    {
      name: 'v1beta1',
      storage: true,
      description: 'BFD settings for the BGP sessions of BGPPeers that name this profile.',
      columns: [
        { name: 'Passive Mode', type: 'boolean', jsonPath: '.spec.passiveMode' },
        { name: 'Transmit Interval', type: 'integer', jsonPath: '.spec.transmitInterval' },
        { name: 'Receive Interval', type: 'integer', jsonPath: '.spec.receiveInterval' },
        { name: 'Multiplier', type: 'integer', jsonPath: '.spec.detectMultiplier' },
      ],
      spec: {
        type: 'object',
        description: 'The BFD settings.',
        properties: {
          receiveInterval: ms('Minimum receive interval, in milliseconds.'),
          transmitInterval: ms('Minimum transmit interval, in milliseconds.'),
          detectMultiplier: int32('Missed packets before the session is declared down.', { minimum: 2, maximum: 255 }),
          echoInterval: ms('Echo transmit interval, in milliseconds.'),
          echoMode: bool('Send echo packets.'),
          passiveMode: bool('Wait for the peer to start the session.'),
          minimumTtl: int32('Minimum TTL of incoming packets (multihop).', { minimum: 1, maximum: 254 }),
        },
      },
    },
  ],
});

const statusCrd = (kind: string, plural: string, description: string, nodeColumn: string, extra: Schema) =>
  crd({
    kind,
    plural,
    versions: [
      {
        name: 'v1beta1',
        storage: true,
        description,
        columns: [
          { name: nodeColumn, type: 'string', jsonPath: '.status.node' },
          { name: 'Service Name', type: 'string', jsonPath: '.status.serviceName' },
          { name: 'Service Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
        ],
        spec: { type: 'object', description: 'Unused.' },
        status: {
          type: 'object',
          description: 'Written by the speaker.',
          properties: {
            node: immutable(str('The announcing node.')),
            serviceName: immutable(str('The Service.')),
            serviceNamespace: immutable(str("The Service's namespace.")),
            ...extra,
          },
        },
      },
    ],
  });

const serviceL2Status = statusCrd(
  'ServiceL2Status',
  'servicel2statuses',
  'Which node answers ARP/NDP for a LoadBalancer Service, and on which interfaces.',
  'Allocated Node',
  {
    interfaces: {
      type: 'array',
      description: 'Interfaces the node answers on.',
      items: { type: 'object', properties: { name: str('Interface name.') } },
    },
  },
);

const serviceBgpStatus = statusCrd(
  'ServiceBGPStatus',
  'servicebgpstatuses',
  'Which BGP peers a node is configured to advertise a LoadBalancer Service to.',
  'Node',
  { peers: strings('BGPPeer names the Service is meant to be advertised to (whatever the session state).') },
);

const configurationState = crd({
  kind: 'ConfigurationState',
  plural: 'configurationstates',
  versions: [
    {
      name: 'v1beta1',
      storage: true,
      description:
        'Whether a component accepted the configuration (labels metallb.io/component-type, metallb.io/node-name).',
      columns: [
        { name: 'Result', type: 'string', jsonPath: '.status.result' },
        { name: 'ErrorSummary', type: 'string', jsonPath: '.status.errorSummary' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
      status: {
        type: 'object',
        description: 'The result of validating the configuration.',
        properties: {
          result: { type: 'string', enum: ['Valid', 'Invalid', 'Unknown'], description: 'The outcome.' },
          errorSummary: str('Why the configuration was rejected; empty when Valid.'),
          conditions: {
            type: 'array',
            description: 'One condition per reconciler.',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['type'],
            items: {
              type: 'object',
              required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'],
              properties: {
                lastTransitionTime: { type: 'string', format: 'date-time', description: 'When status last changed.' },
                message: { type: 'string', maxLength: 32768, description: 'Details.' },
                observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'Generation seen.' },
                reason: {
                  type: 'string',
                  minLength: 1,
                  maxLength: 1024,
                  pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
                  description: 'CamelCase reason.',
                },
                status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'Condition status.' },
                type: {
                  type: 'string',
                  maxLength: 316,
                  pattern:
                    '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
                  description: 'Condition type.',
                },
              },
            },
          },
        },
      },
    },
  ],
});

/** Every CRD, keyed by its file name under deploy/crds/. */
export const CRDS: Readonly<Record<string, Schema>> = {
  'ipaddresspools.yaml': ipAddressPool,
  'l2advertisements.yaml': l2Advertisement,
  'bgpadvertisements.yaml': bgpAdvertisement,
  'bgppeers.yaml': bgpPeer,
  'communities.yaml': community,
  'bfdprofiles.yaml': bfdProfile,
  'servicel2statuses.yaml': serviceL2Status,
  'servicebgpstatuses.yaml': serviceBgpStatus,
  'configurationstates.yaml': configurationState,
};
