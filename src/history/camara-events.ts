import { HTTP, type CloudEvent } from 'cloudevents';
import type { CarrierAnswer } from '../core/answer.js';
import { changesSince, describeChange } from './changes.js';
import type { EventChange, MonitorStore, MonitorSubscription } from './monitor-store.js';
import { answerOfState, nextState, type NumberState } from './number-state.js';
import { encodeState, type StateStore } from './state-store.js';

/** A CloudEvent from the operator, read: its identity, time and what it says. */
export interface ReceivedEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly timeMs: number;
  readonly subscriptionId: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The event's shape is wrong: the sink answers 400 with this reason. */
export class EventShapeError extends Error {}

/**
 * A CloudEvents 1.0 request (structured `application/cloudevents+json`, or binary `ce-*` headers), checked by
 * the `cloudevents` package and then for what CAMARA requires: a time and `data.subscriptionId`.
 */
export function readCloudEvent(headers: Record<string, unknown>, body: unknown): ReceivedEvent {
  let event: CloudEvent<unknown>;
  try {
    const parsed = HTTP.toEvent({ headers: headers as Record<string, string>, body });
    event = (Array.isArray(parsed) ? parsed[0] : parsed) as CloudEvent<unknown>;
    event.validate();
  } catch (error) {
    throw new EventShapeError(`not a CloudEvent: ${error instanceof Error ? error.message : String(error)}`);
  }
  const timeMs = event.time === undefined ? NaN : Date.parse(event.time);
  if (Number.isNaN(timeMs)) throw new EventShapeError('a CAMARA event needs a time');
  const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<
    string,
    unknown
  >;
  if (typeof data.subscriptionId !== 'string' || data.subscriptionId === '')
    throw new EventShapeError('a CAMARA event needs data.subscriptionId');
  return {
    id: event.id,
    source: event.source,
    type: event.type,
    timeMs,
    subscriptionId: data.subscriptionId,
    data,
  };
}

/** The event name after the spec's `org.camaraproject.<api>.v0.` prefix. */
export function eventName(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

export function isSubscriptionEnd(type: string): boolean {
  const name = eventName(type);
  return name === 'subscription-ended' || name === 'subscription-ends';
}

/** What a state event says about the device, as the answer columns it changes; null for other events. */
export function eventAnswer(
  name: string,
  data: Readonly<Record<string, unknown>>,
): Partial<CarrierAnswer> | null {
  const reachability = (reachable: boolean, connectivity: string): Partial<CarrierAnswer> => ({
    reachable: String(reachable),
    connectivity,
    reachability_status: 'OK',
  });
  const roaming = (on: boolean): Partial<CarrierAnswer> => {
    const countries = Array.isArray(data.countryName) ? data.countryName.map(String).join(';') : '';
    const mcc = typeof data.countryCode === 'number' ? String(data.countryCode) : '';
    return {
      roaming: String(on),
      roaming_countries: on ? countries : '',
      roaming_mcc: on ? mcc : '',
      roaming_status: 'OK',
    };
  };
  switch (name) {
    case 'reachability-disconnected':
      return reachability(false, '');
    case 'reachability-data':
      return reachability(true, 'DATA');
    case 'reachability-sms':
      return reachability(true, 'SMS');
    case 'roaming-on':
    case 'roaming-change-country':
      return roaming(true);
    case 'roaming-off':
      return roaming(false);
    case 'roaming-status':
      return roaming(data.roaming === true);
    default:
      return null;
  }
}

const EMPTY_ANSWER: CarrierAnswer = {
  reachable: '',
  connectivity: '',
  last_status_at: '',
  roaming: '',
  roaming_countries: '',
  roaming_mcc: '',
  reachability_status: '',
  roaming_status: '',
  checked_at: '',
  error: '',
  request_id: '',
};

/**
 * Folds one state event into the number's history: the answer it implies (the other insight as last known),
 * the changes from the previous state, and the state written with the event's time as its check time (a state
 * checked later is left alone by the store). Returns the changes, with evidence `event`.
 */
export async function foldEvent(
  deps: { readonly states: StateStore; readonly monitor: MonitorStore; readonly purpose: string },
  subscription: MonitorSubscription,
  event: ReceivedEvent,
): Promise<EventChange[]> {
  const said = eventAnswer(eventName(event.type), event.data);
  if (said === null) return [];
  const { number } = subscription;
  const previous = (await deps.states.read([number], event.timeMs)).get(number) ?? null;
  const at = new Date(event.timeMs).toISOString();
  const answer: CarrierAnswer = {
    ...(previous !== null ? answerOfState(previous) : EMPTY_ANSWER),
    ...said,
    checked_at: at,
    ...('reachable' in said ? { last_status_at: at } : {}),
  };
  const before: NumberState | null = previous?.simulated === subscription.simulated ? previous : null;
  const kinds = changesSince(before, answer);
  const state = nextState(
    previous,
    answer,
    previous?.provider ?? 'camara',
    event.timeMs,
    subscription.simulated,
  );
  await deps.states.write([[number, encodeState(state)]], { purpose: deps.purpose, writtenAtMs: Date.now() });
  const changes = kinds.map((kind) => ({
    number,
    change: kind,
    ...describeChange(kind, answer, before?.knownRoamingCountries ?? ''),
    evidence: 'event' as const,
    at,
    eventId: event.id,
  }));
  for (const change of changes) await deps.monitor.recordChange(change);
  return changes;
}
