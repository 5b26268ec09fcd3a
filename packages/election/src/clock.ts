/**
 * Time and randomness come from `@ingot/net`, the one clock of the @ingot packages (`systemClock`'s timers are
 * unref'd: the membership's sockets keep a process alive, a timer alone does not).
 * @module
 */
export { type Clock, seededRandom, systemClock, type TimerHandle } from '@ingot/net';
