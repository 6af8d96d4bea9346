// Sample events for the common triggers, by name (`--event apigw-http`), like `sam local generate-event`.
// The JSON files live in ./events and are bundled into dist/cli.mjs as JSON modules.
import apigwRest from './events/apigw-rest.json' with { type: 'json' };
import apigwHttp from './events/apigw-http.json' with { type: 'json' };
import functionUrl from './events/function-url.json' with { type: 'json' };
import s3 from './events/s3.json' with { type: 'json' };
import sqs from './events/sqs.json' with { type: 'json' };
import sns from './events/sns.json' with { type: 'json' };
import eventbridge from './events/eventbridge.json' with { type: 'json' };
import dynamodb from './events/dynamodb.json' with { type: 'json' };

export interface SampleEvent {
  name: string;
  description: string;
  event: unknown;
}

export const SAMPLE_EVENTS: readonly SampleEvent[] = [
  { name: 'apigw-rest', description: 'API Gateway REST API proxy integration (payload 1.0)', event: apigwRest },
  { name: 'apigw-http', description: 'API Gateway HTTP API (payload 2.0)', event: apigwHttp },
  { name: 'function-url', description: 'Lambda function URL request (payload 2.0)', event: functionUrl },
  { name: 's3', description: 'S3 ObjectCreated:Put notification', event: s3 },
  { name: 'sqs', description: 'SQS message batch', event: sqs },
  { name: 'sns', description: 'SNS notification', event: sns },
  { name: 'eventbridge', description: 'EventBridge scheduled event', event: eventbridge },
  { name: 'dynamodb', description: 'DynamoDB stream records (INSERT, MODIFY)', event: dynamodb },
];

export function sampleEvent(name: string): SampleEvent | undefined {
  return SAMPLE_EVENTS.find((e) => e.name === name);
}

/** The table `tandem events` prints. */
export function formatSampleList(): string {
  const width = Math.max(...SAMPLE_EVENTS.map((e) => e.name.length));
  return SAMPLE_EVENTS.map((e) => `${e.name.padEnd(width)}  ${e.description}\n`).join('');
}
