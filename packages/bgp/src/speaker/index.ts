/** BGP sessions, the RFC 4271 FSM, and the speaker. */
export const SPEAKER_PLACEHOLDER = true;
