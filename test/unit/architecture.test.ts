/**
 * Who may touch what, checked on the types rather than on names (so a renamed variable cannot
 * slip past): an expression whose type is the DynamoDB port (DocumentStore) or the cache port
 * (Cache, CacheBatch) may appear only in a store (lambdas/core/<aggregate>/store*.ts), in the
 * wiring, or in platform/ (which implements them). Services and entry files pass `deps` along and
 * never read or write an item or a key themselves. Each item kind's key builder (METADATA_KEYS.x)
 * is used by its own aggregate's store only. Import rules (who may import whom) are
 * dependency-cruiser's (.dependency-cruiser.cjs, `npm run lint`).
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const PORT_TYPES = new Set(['DocumentStore', 'Cache', 'CacheBatch']);
const STORE = /^lambdas\/core\/[^/]+\/store[^/]*\.ts$/;
const MAY_USE_PORTS = [
  /^lambdas\/core\/(ports|cache-port)\.ts$/,
  STORE,
  /^lambdas\/wiring\.ts$/,
  /^lambdas\/platform\//,
];

/** Which store owns each item kind of the metadata table. */
const KEY_OWNERS: Readonly<Record<string, RegExp>> = {
  userPartition: /^lambdas\/core\/(follows|users)\/store[^/]*\.ts$/,
  media: /^lambdas\/core\/media\/store[^/]*\.ts$/,
  processingIndex: /^lambdas\/core\/media\/store[^/]*\.ts$/,
  unattachedIndex: /^lambdas\/core\/media\/store[^/]*\.ts$/,
  uploadQuota: /^lambdas\/core\/media\/store[^/]*\.ts$/,
  profile: /^lambdas\/core\/users\/store[^/]*\.ts$/,
  handle: /^lambdas\/core\/users\/store[^/]*\.ts$/,
  follows: /^lambdas\/core\/follows\/store[^/]*\.ts$/,
  follower: /^lambdas\/core\/follows\/store[^/]*\.ts$/,
  followsPrefix: /^lambdas\/core\/follows\/store[^/]*\.ts$/,
  followerPrefix: /^lambdas\/core\/follows\/store[^/]*\.ts$/,
  idempotency: /^lambdas\/core\/tweets\/store[^/]*\.ts$/,
};

/**
 * An expression that yields a value (`deps.dynamo`, `cache`), not a name being declared (a
 * parameter, a property signature, an import) nor the name part of `deps.dynamo` (counted once).
 */
function isPortUse(node: ts.Node): boolean {
  const parent = node.parent as ts.Node | undefined;
  if (ts.isPropertyAccessExpression(node)) return true;
  if (!ts.isIdentifier(node) || parent === undefined) return false;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if (ts.isImportSpecifier(parent) || ts.isImportClause(parent) || ts.isTypeNode(parent))
    return false;
  const declared = (parent as { name?: ts.Node }).name === node;
  return !(
    declared &&
    (ts.isParameter(parent) ||
      ts.isPropertySignature(parent) ||
      ts.isVariableDeclaration(parent) ||
      ts.isBindingElement(parent) ||
      ts.isFunctionDeclaration(parent) ||
      ts.isInterfaceDeclaration(parent) ||
      ts.isTypeAliasDeclaration(parent))
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

interface Use {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

function findUses(): { ports: Use[]; keys: Use[] } {
  const files = sourceFiles('lambdas').map((file) => join(ROOT, file));
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  const program = ts.createProgram(files, config!.options);
  const checker = program.getTypeChecker();
  const ports: Use[] = [];
  const keys: Use[] = [];
  for (const path of files) {
    const source = program.getSourceFile(path)!;
    const file = relative(ROOT, path).split('\\').join('/');
    const at = (node: ts.Node, what: string): Use => ({
      file,
      line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
      what,
    });
    /** `readTweet(deps.cache, id)`: a service handing a port to a store function is no use. */
    const handedToStore = (node: ts.Node): boolean => {
      const call = node.parent;
      if (
        call === undefined ||
        !ts.isCallExpression(call) ||
        !call.arguments.includes(node as ts.Expression)
      ) {
        return false;
      }
      let symbol = checker.getSymbolAtLocation(call.expression);
      if (symbol !== undefined && symbol.flags & ts.SymbolFlags.Alias) {
        symbol = checker.getAliasedSymbol(symbol);
      }
      const declaredIn = symbol?.declarations?.[0]?.getSourceFile().fileName;
      return (
        declaredIn !== undefined && STORE.test(relative(ROOT, declaredIn).split('\\').join('/'))
      );
    };
    const visit = (node: ts.Node): void => {
      if (isPortUse(node) && !handedToStore(node)) {
        const type = checker.getTypeAtLocation(node);
        const name = (type.aliasSymbol ?? type.getSymbol())?.getName();
        if (name !== undefined && PORT_TYPES.has(name)) {
          ports.push(at(node, `${node.getText()}: ${name}`));
        }
      }
      if (
        ts.isPropertyAccessExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'METADATA_KEYS'
      ) {
        keys.push(at(node, node.name.text));
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { ports, keys };
}

const uses = findUses();

describe('architecture: stores own their items and keys', () => {
  it('finds the ports where they are used (the check can see them)', () => {
    expect(uses.ports.some((use) => /^lambdas\/core\/.+\/store/.test(use.file))).toBe(true);
    expect(uses.keys.length).toBeGreaterThan(10);
  });

  it('reads and writes DynamoDB and the cache only in stores, the wiring and platform/', () => {
    const outside = uses.ports
      .filter((use) => !MAY_USE_PORTS.some((allowed) => allowed.test(use.file)))
      .map((use) => `${use.file}:${use.line} ${use.what}`);
    expect(outside).toEqual([]);
  });

  it("uses each item kind's key builder only in the store that owns that item", () => {
    const misplaced = uses.keys
      .filter((use) => {
        const owner = KEY_OWNERS[use.what];
        return owner === undefined || !owner.test(use.file);
      })
      .map((use) => `${use.file}:${use.line} METADATA_KEYS.${use.what}`);
    expect(misplaced).toEqual([]);
  });
});
