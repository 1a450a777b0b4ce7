/** How the local runtime reports progress; `npm start` prints it, tests send it to a log file. */
export type Log = (message: string) => void;

export const silentLog: Log = () => undefined;
