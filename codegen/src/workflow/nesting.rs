//! Where operations run: the `within` of each operation, resolved to the child context, map
//! or parallel branch it names. Only the diagrams and the documentation use it.

use super::declaration::Operation;

/// What an operation runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Parent {
    /// The workflow's top level.
    Root,
    /// The child context or map at this index (for a map: each item's context).
    Operation(usize),
    /// A branch of the parallel at this index.
    Branch(usize, usize),
}

/// Resolves the `within` of the operation at `index`.
pub(crate) fn parent(operations: &[Operation], index: usize) -> Result<Parent, String> {
    let Some(within) = operations.get(index).and_then(Operation::within) else {
        return Ok(Parent::Root);
    };
    let mut found = Vec::new();
    for (other, op) in operations.iter().enumerate() {
        if op.name() == within {
            match op {
                Operation::ChildContext(_) | Operation::Map(_) => found.push(Parent::Operation(other)),
                Operation::Parallel(_) => {
                    return Err(format!(
                        "{within:?} is a parallel; name one of its branches ({}) instead",
                        branch_list(op)
                    ))
                }
                other_op => {
                    return Err(format!(
                        "{within:?} is a {}; operations run within a child-context or map operation, or a parallel branch",
                        other_op.kind()
                    ))
                }
            }
        }
        if let Operation::Parallel(parallel) = op {
            if let Some(branch) = parallel.branches.iter().position(|b| b == within) {
                found.push(Parent::Branch(other, branch));
            }
        }
    }
    match found.as_slice() {
        [] => Err(format!(
            "no child-context or map operation or parallel branch is named {within:?}"
        )),
        [parent] => {
            let mut seen = vec![index];
            let mut current = *parent;
            loop {
                let at = match current {
                    Parent::Root => return Ok(*parent),
                    Parent::Operation(at) | Parent::Branch(at, _) => at,
                };
                if seen.contains(&at) {
                    return Err(format!(
                        "{within:?} runs within this operation, directly or not: the nesting is a cycle"
                    ));
                }
                seen.push(at);
                current = parent_unchecked(operations, at);
            }
        }
        _ => Err(format!(
            "{within:?} names more than one place (an operation and a parallel branch, or branches of two parallels); rename one"
        )),
    }
}

/// The parent of a checked declaration's operation (`Root` where it cannot be resolved).
pub(crate) fn parent_unchecked(operations: &[Operation], index: usize) -> Parent {
    let Some(within) = operations.get(index).and_then(Operation::within) else {
        return Parent::Root;
    };
    for (other, op) in operations.iter().enumerate() {
        match op {
            Operation::ChildContext(_) | Operation::Map(_) if op.name() == within => {
                return Parent::Operation(other)
            }
            Operation::Parallel(parallel) => {
                if let Some(branch) = parallel.branches.iter().position(|b| b == within) {
                    return Parent::Branch(other, branch);
                }
            }
            _ => {}
        }
    }
    Parent::Root
}

fn branch_list(op: &Operation) -> String {
    match op {
        Operation::Parallel(parallel) => parallel
            .branches
            .iter()
            .map(|b| format!("{b:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}
