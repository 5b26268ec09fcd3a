import type { CoreV1Event } from '@kubernetes/client-node';
import type { ServiceEvent } from '../controller/service-controller.js';
import type { KubeObject } from './kube-objects.js';

let eventCounter = 0;

/** A unique, increasing event name suffix (like client-go's hex of the time in nanoseconds). */
function eventSuffix(): string {
  eventCounter = (eventCounter + 1) % 1_000_000;
  return (BigInt(Date.now()) * 1_000_000n + BigInt(eventCounter)).toString(16);
}

/**
 * A core/v1 Event about a Service, as client-go's recorder builds it (`<service>.<hex>` name, the Service as
 * involvedObject, count 1, first and last timestamps now).
 * @param svc - the Service the event is about
 * @param event - type, MetalLB's reason, message
 * @param component - the reporting component, e.g. `ingot-controller`
 */
export function serviceEventObject(svc: KubeObject, event: ServiceEvent, component: string): CoreV1Event {
  const namespace = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const now = new Date();
  return {
    metadata: { name: `${name}.${eventSuffix()}`, namespace },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Service',
      name,
      namespace,
      ...(svc.metadata?.uid ? { uid: svc.metadata.uid } : {}),
      ...(svc.metadata?.resourceVersion ? { resourceVersion: svc.metadata.resourceVersion } : {}),
    },
    reason: event.reason,
    message: event.message,
    type: event.type,
    source: { component },
    reportingComponent: component,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}
