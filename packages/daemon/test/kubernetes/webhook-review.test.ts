import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/kubernetes/kube-objects.js';
import { type AdmissionContext, reviewAdmission } from '../../src/kubernetes/webhook-admission.js';
import { convertBgpPeer, reviewConversion } from '../../src/kubernetes/webhook-conversion.js';

const NS = 'metallb-system';
const pool = (name: string, addresses: string[]): KubeObject => ({
  apiVersion: 'metallb.io/v1beta1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: NS },
  spec: { addresses },
});
const peer = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'metallb.io/v1beta2',
  kind: 'BGPPeer',
  metadata: { name, namespace: NS },
  spec,
});

/** An AdmissionReview request body as the API server sends it. */
function review(
  object: KubeObject | null,
  operation = 'CREATE',
  extra: { namespace?: string; name?: string; version?: string; kind?: string } = {},
) {
  const [group, version] = (object?.apiVersion ?? `metallb.io/${extra.version ?? 'v1beta1'}`).split('/');
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'b6f5c2a0-0000-4000-8000-000000000001',
      kind: { group, version: extra.version ?? version, kind: extra.kind ?? object?.kind },
      resource: { group, version, resource: `${(extra.kind ?? object?.kind ?? '').toLowerCase()}s` },
      namespace: extra.namespace ?? object?.metadata?.namespace ?? NS,
      name: extra.name ?? object?.metadata?.name,
      operation,
      object,
      oldObject: null,
    },
  };
}

function ctx(objects: KubeObject[]): AdmissionContext {
  return { namespace: NS, configObjects: () => objects };
}

describe('reviewAdmission', () => {
  const existing = [pool('first', ['192.0.2.0/28'])];

  it('allows a valid pool and echoes the uid', () => {
    const r = reviewAdmission(review(pool('second', ['198.51.100.0/28'])), ctx(existing));
    expect(r.apiVersion).toBe('admission.k8s.io/v1');
    expect(r.kind).toBe('AdmissionReview');
    expect(r.response.uid).toBe('b6f5c2a0-0000-4000-8000-000000000001');
    expect(r.response.allowed).toBe(true);
  });

  it('refuses an invalid pool with the resource, field and reason', () => {
    const r = reviewAdmission(review(pool('second', ['not-an-address'])), ctx(existing));
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.code).toBe(403);
    expect(r.response.status?.message).toMatch(/^IPAddressPool\/second spec\.addresses/);
  });

  it('refuses a pool that overlaps one in force (the whole resulting configuration is checked)', () => {
    const r = reviewAdmission(review(pool('second', ['192.0.2.8/29'])), ctx(existing));
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.message).toMatch(/overlap/i);
  });

  it('an update replaces the object in force instead of adding a second one', () => {
    const r = reviewAdmission(review(pool('first', ['192.0.2.0/27']), 'UPDATE'), ctx(existing));
    expect(r.response.allowed).toBe(true);
  });

  it('refuses objects outside MetalLB namespace', () => {
    const obj = { ...pool('elsewhere', ['203.0.113.0/28']), metadata: { name: 'elsewhere', namespace: 'default' } };
    const r = reviewAdmission(review(obj), ctx(existing));
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.message).toBe('resource must be created in metallb-system namespace');
  });

  it('an issue already in force does not block an unrelated change, and fixing it is allowed', () => {
    const broken = [...existing, peer('bad', { myASN: 64500, peerASN: 64501, peerAddress: 'nowhere' })];
    expect(reviewAdmission(review(pool('second', ['198.51.100.0/28'])), ctx(broken)).response.allowed).toBe(true);
    const fixed = peer('bad', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.254' });
    expect(reviewAdmission(review(fixed, 'UPDATE'), ctx(broken)).response.allowed).toBe(true);
  });

  it('refuses an invalid BGPPeer sent as v1beta1 after converting it', () => {
    const v1 = {
      ...peer('p', { myASN: 64500, peerASN: 64501, peerAddress: 'nowhere' }),
      apiVersion: 'metallb.io/v1beta1',
    };
    const r = reviewAdmission(review(v1), ctx(existing));
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.message).toMatch(/^BGPPeer\/p spec\.peerAddress/);
    const ok = {
      ...peer('p', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.254' }),
      apiVersion: 'metallb.io/v1beta1',
    };
    expect(reviewAdmission(review(ok), ctx(existing)).response.allowed).toBe(true);
  });

  it('BFDProfile: checked like the rest (echoMode accepted, an out-of-range echoInterval refused), and deleting one a BGPPeer uses is refused', () => {
    const bfd = (spec: Record<string, unknown>) => ({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'BFDProfile',
      metadata: { name: 'fast', namespace: NS },
      spec,
    });
    expect(reviewAdmission(review(bfd({ receiveInterval: 300 })), ctx(existing)).response.allowed).toBe(true);
    expect(reviewAdmission(review(bfd({ echoMode: true })), ctx(existing)).response.allowed).toBe(true);
    const echo = reviewAdmission(review(bfd({ echoMode: true, echoInterval: 5 })), ctx(existing));
    expect(echo.response.allowed).toBe(false);
    expect(echo.response.status?.message).toMatch(/^BFDProfile\/fast spec\.echoInterval/);
    const users = [peer('p', { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.254', bfdProfile: 'fast' })];
    const del = reviewAdmission(review(null, 'DELETE', { kind: 'BFDProfile', name: 'fast' }), ctx(users));
    expect(del.response.allowed).toBe(false);
    expect(del.response.status?.message).toContain('BGPPeer p');
    expect(
      reviewAdmission(review(null, 'DELETE', { kind: 'BFDProfile', name: 'other' }), ctx(users)).response.allowed,
    ).toBe(true);
    expect(
      reviewAdmission(review(null, 'DELETE', { kind: 'IPAddressPool', name: 'first' }), ctx(existing)).response.allowed,
    ).toBe(true);
  });

  it('answers garbage with a refusal, not an exception', () => {
    for (const body of [null, 1, 'x', {}, { request: {} }, { request: { kind: 'x' } }])
      expect(reviewAdmission(body, ctx(existing)).response.allowed).toBe(false);
  });
});

describe('BGPPeer conversion', () => {
  const v2 = peer('p', {
    myASN: 64500,
    peerASN: 64501,
    peerAddress: '192.0.2.254',
    peerPort: 179,
    holdTime: '90s',
    nodeSelectors: [
      { matchLabels: { rack: 'a' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] },
      {},
    ],
    passwordSecret: { name: 's' },
    connectTime: '5s',
  });

  it('v1beta2 → v1beta1 keeps the common fields, reshapes selectors and drops v1beta2-only fields', () => {
    const v1 = convertBgpPeer(v2, 'metallb.io/v1beta1');
    expect(v1.apiVersion).toBe('metallb.io/v1beta1');
    expect(v1.metadata).toEqual(v2.metadata);
    expect(v1.spec).toEqual({
      myASN: 64500,
      peerASN: 64501,
      peerAddress: '192.0.2.254',
      peerPort: 179,
      holdTime: '90s',
      nodeSelectors: [
        { matchLabels: { rack: 'a' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] },
        { matchLabels: {}, matchExpressions: [] },
      ],
    });
  });

  it('v1beta1 → v1beta2 → v1beta1 is the identity on v1beta1 objects', () => {
    const v1 = convertBgpPeer(v2, 'metallb.io/v1beta1');
    const back = convertBgpPeer(convertBgpPeer(v1, 'metallb.io/v1beta2'), 'metallb.io/v1beta1');
    expect(back).toEqual(v1);
    expect((convertBgpPeer(v1, 'metallb.io/v1beta2').spec as { nodeSelectors: unknown[] }).nodeSelectors[1]).toEqual(
      {},
    );
  });

  it('answers a ConversionReview', () => {
    const r = reviewConversion({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'ConversionReview',
      request: { uid: 'u-1', desiredAPIVersion: 'metallb.io/v1beta1', objects: [v2, v2] },
    });
    expect(r.response.uid).toBe('u-1');
    expect(r.response.result.status).toBe('Success');
    expect(r.response.convertedObjects.map((o) => o.apiVersion)).toEqual(['metallb.io/v1beta1', 'metallb.io/v1beta1']);
  });

  it('fails cleanly on unknown versions, kinds and garbage', () => {
    const bad = (request: unknown) => reviewConversion({ request }).response.result.status;
    expect(bad({ uid: 'u', desiredAPIVersion: 'metallb.io/v9', objects: [v2] })).toBe('Failure');
    expect(bad({ uid: 'u', desiredAPIVersion: 'metallb.io/v1beta1', objects: [pool('x', [])] })).toBe('Failure');
    expect(bad({ uid: 'u', desiredAPIVersion: 'metallb.io/v1beta1', objects: [null] })).toBe('Failure');
    expect(bad(undefined)).toBe('Failure');
  });
});

describe('webhook answers to arbitrary bodies (fast-check)', () => {
  it('never throw, always echo a string uid, and never allow a body that is not a request', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const bodies = [
          a,
          { request: a },
          { request: { uid: 'u', kind: { kind: 'IPAddressPool' }, namespace: NS, operation: 'CREATE', object: b } },
        ];
        for (const body of bodies) {
          const r = reviewAdmission(body, ctx([pool('first', ['192.0.2.0/28'])]));
          expect(typeof r.response.uid).toBe('string');
          const c = reviewConversion(body);
          expect(['Success', 'Failure']).toContain(c.response.result.status);
        }
        expect(reviewAdmission(a, ctx([])).response.allowed).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
