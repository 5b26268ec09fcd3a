/** BGP-4 wire codec: messages, attributes, errors, stream decoder. */
export const CODEC_PLACEHOLDER = true;
