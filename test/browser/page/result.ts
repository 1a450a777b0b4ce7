/** What the page's flow reports back to the test (test/browser/page/flow.ts). */
export interface FlowResult {
  readonly tweetId: string;
  readonly status: string;
  readonly progress: { loaded: number; total: number }[];
  readonly variantUrl: string;
  readonly imageSize: [number, number];
  readonly pixel: number[];
  readonly timelineIds: string[];
  readonly ms: number;
}

/** What runPartsUpload hands back. */
export interface PartsResult {
  readonly mediaId: string;
  readonly method: string;
  readonly status: string;
  readonly progress: { loaded: number; total: number }[];
  readonly ms: number;
}
