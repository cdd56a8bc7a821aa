/**
 * The paged scan, apart from functions/shared/dynamo.ts: only functions granted dynamodb:Scan import
 * it (the stack's least-privilege test matches each bundle's DynamoDB commands to its grants).
 */
import { ScanCommand, type DynamoDBDocumentClient, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';

/**
 * Every item the scan returns, page after page, handed to `onItem` as each page arrives (a scan's
 * matches are not kept in memory together); `pages` counts the requests, `scanned` the items read.
 */
export async function scanEach(
  doc: DynamoDBDocumentClient,
  input: Omit<ScanCommandInput, 'ExclusiveStartKey'>,
  onItem: (item: Record<string, unknown>) => void,
): Promise<{ pages: number; scanned: number }> {
  let pages = 0;
  let scanned = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ ...input, ExclusiveStartKey: startKey }));
    pages++;
    scanned += page.ScannedCount ?? 0;
    for (const item of page.Items ?? []) onItem(item);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { pages, scanned };
}
