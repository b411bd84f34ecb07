import type { DemoProduct } from './catalog.ts';
import type { DemoCampaign, DemoCompany, DemoDevice } from './people.ts';
import type { Random } from './random.ts';

/** One Segment call of the demo data set, ready to be sent in a /v1/batch body. */
export interface DemoCall {
  type: 'track' | 'identify' | 'page' | 'screen' | 'group';
  messageId: string;
  timestamp: string;
  [field: string]: unknown;
}

export type VisitorKind = 'bouncer' | 'browser' | 'guest' | 'customer' | 'b2b';
/** What becomes of an order in the back office. */
export type OrderOutcome = 'shipped' | 'cancelled' | 'refunded';

export interface SessionPlan {
  device: number;
  /** Planned start, epoch ms; pushed later when the previous session is still running. */
  start: number;
  campaign?: DemoCampaign | undefined;
  /** Lists or searches looked at, each followed by product views. */
  depth: number;
  signUp?: boolean;
  /** Sign in on this device when registered and not signed in yet. */
  signIn?: boolean;
  cart?: boolean;
  removeFromCart?: boolean;
  buy?: boolean;
  requisition?: boolean;
  removeFromRequisition?: boolean;
  quote?: boolean;
  accountUpdate?: boolean;
  signOut?: boolean;
  deleteAccount?: boolean;
}

export interface VisitorPlan {
  index: number;
  kind: VisitorKind;
  firstName: string;
  lastName: string;
  email: string;
  userId: string;
  phone: string;
  crmId: string;
  company?: DemoCompany | undefined;
  devices: DemoDevice[];
  favoriteCategories: string[];
  sessions: SessionPlan[];
  /** Outcome of the n-th order, when the plan fixes it (the first visitors cover every event). */
  orderOutcomes?: OrderOutcome[];
  /** Back-office events are clamped into the window, so forced outcomes always happen. */
  forced: boolean;
}

export interface SimulationContext {
  seed: number;
  catalog: readonly DemoProduct[];
  byCategory: ReadonlyMap<string, readonly DemoProduct[]>;
  now: number;
  rng: Random;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const TIME = { SECOND, MINUTE, HOUR, DAY } as const;
