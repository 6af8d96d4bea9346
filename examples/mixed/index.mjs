// A Node HTTP API handler (API Gateway HTTP API / function URL event, payload format 2.0) that validates its
// input in Node and scores it with a Python function (model.py), through tandem's python() API: no second
// Lambda, no HTTP hop. `tandem.python` is a global in the tandem runtime; nothing to install.
// (Outside the runtime, `import { python } from 'tandem-lambda'` gives the same function.)
const score = tandem.python('model.score');

const MAX_TEXT = 10_000;

function json(statusCode, doc) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) };
}

/** The request body as an object, or an error message. */
function parseRequest(event) {
  if (event?.requestContext?.http?.method && event.requestContext.http.method !== 'POST') {
    return { error: `use POST, not ${event.requestContext.http.method}` };
  }
  let body = event?.body ?? '';
  if (event?.isBase64Encoded) body = Buffer.from(body, 'base64').toString('utf8');
  let doc;
  try {
    doc = JSON.parse(body);
  } catch {
    return { error: 'the body must be JSON: {"text": "...", "lang": "en"}' };
  }
  if (!doc || typeof doc.text !== 'string' || doc.text.trim() === '') return { error: '"text" must be a non-empty string' };
  if (doc.text.length > MAX_TEXT) return { error: `"text" is longer than ${MAX_TEXT} characters` };
  if (doc.lang !== undefined && !/^[a-z]{2}$/.test(doc.lang)) return { error: '"lang" must be a two-letter code' };
  return { request: { text: doc.text, lang: doc.lang ?? 'en' } };
}

export const handler = async (event, context) => {
  const { request, error } = parseRequest(event);
  if (error) return json(400, { error });
  try {
    const result = await score(request, { context });
    return json(200, { ...result, requestId: context.awsRequestId });
  } catch (err) {
    if (err instanceof tandem.PythonError) {
      console.error('scoring failed', err.errorType, err.errorMessage);
      return json(502, { error: 'scoring failed', type: err.errorType, message: err.errorMessage });
    }
    throw err;
  }
};
