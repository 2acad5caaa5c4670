/**
 * The model's relation graph read backwards, for ListObjects: from a relation a user is
 * known to have, which relations of which types can it grant? Computed once per model.
 *
 * Only the granting positions of a rewrite count (union and intersection operands, an
 * exclusion's base): a subtracted relation never grants anything.
 */

import type { AuthorizationModel, RelationDefinition, Rewrite } from "./model.js";

/** How having `from` (a `type#relation`) can lead to another relation. */
export type ReverseEdge =
  /** Tuples `Y:? #rel @ x:id#r` name the userset: follow them to their objects. */
  | { kind: "userset"; targetType: string; targetRelation: string }
  /** The same object's `targetRelation` includes `r`. */
  | { kind: "computed"; targetType: string; targetRelation: string }
  /** `targetRelation: r from tupleset` on `targetType`: follow tuples `Y:? #tupleset @ x:id`. */
  | { kind: "tupleToUserset"; targetType: string; targetRelation: string; tupleset: string };

export function nodeKey(type: string, relation: string): string {
  return `${type}#${relation}`;
}

/** Edges leaving each `type#relation`, over the whole model. */
export function reverseEdges(
  model: AuthorizationModel,
): ReadonlyMap<string, readonly ReverseEdge[]> {
  return model.memo("relation-graph:reverse-edges", () => {
    const edges = new Map<string, ReverseEdge[]>();
    const add = (from: string, edge: ReverseEdge) => {
      const list = edges.get(from);
      if (list) list.push(edge);
      else edges.set(from, [edge]);
    };
    for (const typeDef of model.types.values()) {
      for (const definition of typeDef.relations.values()) {
        const targetType = definition.objectType;
        const targetRelation = definition.name;
        forEachGrantingLeaf(definition.rewrite, (leaf) => {
          if (leaf.kind === "direct") {
            for (const userset of definition.allowed.usersetTypes) {
              add(userset, { kind: "userset", targetType, targetRelation });
            }
          } else if (leaf.kind === "computed") {
            add(nodeKey(targetType, leaf.relation), {
              kind: "computed",
              targetType,
              targetRelation,
            });
          } else if (leaf.kind === "tupleToUserset") {
            for (const parentType of tuplesetParentTypes(model, targetType, leaf.tupleset)) {
              add(nodeKey(parentType, leaf.computedRelation), {
                kind: "tupleToUserset",
                targetType,
                targetRelation,
                tupleset: leaf.tupleset,
              });
            }
          }
        });
      }
    }
    return edges;
  });
}

/**
 * Every `type#relation` whose members can end up in `type#relation` of the target: the
 * only part of the graph a ListObjects for that target needs to walk.
 */
export function contributors(
  model: AuthorizationModel,
  targetType: string,
  targetRelation: string,
): ReadonlySet<string> {
  return model.memo(`relation-graph:contributors:${targetType}#${targetRelation}`, () => {
    const found = new Set<string>();
    const visit = (type: string, relation: string) => {
      const key = nodeKey(type, relation);
      const definition = model.relation(type, relation);
      if (found.has(key) || !definition) return;
      found.add(key);
      forEachGrantingLeaf(definition.rewrite, (leaf) => {
        if (leaf.kind === "direct") {
          for (const userset of definition.allowed.usersetTypes) {
            const [usersetType = "", usersetRelation = ""] = userset.split("#");
            visit(usersetType, usersetRelation);
          }
        } else if (leaf.kind === "computed") {
          visit(type, leaf.relation);
        } else if (leaf.kind === "tupleToUserset") {
          for (const parentType of tuplesetParentTypes(model, type, leaf.tupleset)) {
            visit(parentType, leaf.computedRelation);
          }
        }
      });
    };
    visit(targetType, targetRelation);
    return found;
  });
}

/** The object types a tupleset relation may name (whether they define the computed relation is checked where it matters). */
function tuplesetParentTypes(model: AuthorizationModel, type: string, tupleset: string): string[] {
  const definition: RelationDefinition | undefined = model.relation(type, tupleset);
  return definition ? [...definition.allowed.objectTypes] : [];
}

function forEachGrantingLeaf(rewrite: Rewrite, visit: (leaf: Rewrite) => void): void {
  switch (rewrite.kind) {
    case "union":
    case "intersection":
      for (const child of rewrite.children) forEachGrantingLeaf(child, visit);
      return;
    case "exclusion":
      forEachGrantingLeaf(rewrite.base, visit);
      return;
    default:
      visit(rewrite);
  }
}
