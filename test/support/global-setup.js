// Starts the DynamoDB and SQS/SNS emulators once per jest run. Workers inherit process.env,
// so tests find the endpoints in DYNAMODB_ENDPOINT / SQS_ENDPOINT. Each test creates its own
// uniquely named tables and queues (see test/support/emulators.ts), so workers never collide.
module.exports = async function globalSetup() {
  const { startDynamo, startQueues, LOCAL_AWS_ENV } = require('../../local/emulators');
  const [dynamo, queues] = await Promise.all([startDynamo(), startQueues()]);
  Object.assign(process.env, LOCAL_AWS_ENV, {
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    SQS_ENDPOINT: queues.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    AWS_ENDPOINT_URL_SNS: queues.endpoint,
  });
  globalThis.__EMULATORS__ = [dynamo, queues];
};
