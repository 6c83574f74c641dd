/**
 * Size limits shared by the device HTTPS API and the configuration that checks --max-message-bytes against
 * them (kept apart from the routes so the configuration does not load the HTTP stack).
 */
export const MAX_BATCH = 500;
/** The body limit of POST /api/v1/devices/:id/readings: a full batch of typical messages. */
export const READINGS_BODY_LIMIT = MAX_BATCH * 300 * 1024;
/** Room an MQTT PUBLISH or an HTTPS batch needs around one message (topic, headers, JSON framing). */
export const MESSAGE_FRAMING_BYTES = 1024;
