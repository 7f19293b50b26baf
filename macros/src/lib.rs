//! Procedural macros of [`lambda-durable`](https://docs.rs/lambda-durable).
//!
//! Use them through the SDK, which re-exports them (`lambda_durable::durable_execution`)
//! and documents them with examples: the code they generate refers to items of the
//! `lambda_durable` crate, so that crate must be a dependency under that name.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned, ToTokens};
use syn::{FnArg, Item, ItemFn, PatType, ReturnType, Signature, Type};

/// # Expansion
///
/// The attribute leaves the handler unchanged and adds, next to it, a `fn main` that
/// installs `lambda_runtime`'s default `tracing` subscriber (so that the SDK's and the
/// handler's logs reach CloudWatch, as JSON when the function's log format is JSON, at
/// the level of `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`), builds a multi-threaded Tokio
/// runtime (the SDK's own Tokio: the function's crate needs no Tokio dependency) and
/// serves the handler with `lambda_durable::run` on it:
///
/// ```ignore
/// fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///     lambda_durable::logging::init_subscriber();
///     tokio::runtime::Builder::new_multi_thread()
///         .enable_all()
///         .build()?
///         .block_on(lambda_durable::run(handler))?;
///     Ok(())
/// }
/// ```
///
/// Put the handler at the root of the binary crate, where `main` must be, and depend on
/// the SDK as `lambda-durable` (the generated code names `::lambda_durable`).
///
/// # Requirements
///
/// The attribute takes no arguments, and the handler must be
///
/// - an `async fn`, not generic, not `const`, `unsafe` or `extern`, and not named `main`;
/// - a free function taking exactly two parameters: the event (an owned type that
///   deserializes from the execution's input) and then the context, whose type is a path
///   ending in `DurableContext`;
/// - returning a `Result` (a type path such as `Result<T, lambda_durable::Error>` or an
///   alias of a `Result`), not `impl Trait`.
///
/// A handler that breaks these rules is a compile error pointing at the offending part of
/// the signature. The remaining bounds of `lambda_durable::run` (the event deserializes,
/// the output serializes, the error converts into a boxed error, the future is `Send`) are
/// checked by the compiler on the generated call.
#[proc_macro_attribute]
pub fn durable_execution(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into()).into()
}

/// The expansion of `#[durable_execution]`, on `proc_macro2` tokens so that it can be
/// unit-tested.
fn expand(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let mut errors = Errors::default();
    check_arguments(&attr, &mut errors);
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(other) => {
            errors.push(syn::Error::new_spanned(
                &other,
                "`#[durable_execution]` applies to the `async fn` handler of a durable function",
            ));
            return with_errors(errors, &item, true);
        }
        Err(err) => {
            errors.push(err);
            return with_errors(errors, &item, true);
        }
    };
    check_signature(&function.sig, &mut errors);
    if errors.is_empty() {
        generate(&function)
    } else {
        let placeholder_main = function.sig.ident != "main";
        with_errors(errors, &function.to_token_stream(), placeholder_main)
    }
}

/// The wiring for a validated handler: the handler itself, then `main`.
fn generate(function: &ItemFn) -> TokenStream2 {
    let handler = &function.sig.ident;
    // Spanned at the handler's name: the compiler reports the bounds of `run` that the
    // handler does not meet (the output is not `Serialize`, the future is not `Send`...)
    // there rather than at the attribute.
    let run = quote_spanned!(handler.span()=> ::lambda_durable::run(#handler));
    quote! {
        #function

        fn main() -> ::std::result::Result<(), ::lambda_durable::__macro_support::BoxError> {
            ::lambda_durable::logging::init_subscriber();
            ::lambda_durable::__macro_support::tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(#run)?;
            ::std::result::Result::Ok(())
        }
    }
}

/// The errors, followed by the item unchanged (so that its body is still checked and
/// references to it still resolve) and, unless the item is itself `main`, an empty `main`
/// (so that the errors are not followed by a confusing "`main` function not found").
fn with_errors(errors: Errors, item: &TokenStream2, placeholder_main: bool) -> TokenStream2 {
    let errors = errors.to_compile_errors();
    let main = placeholder_main.then(|| {
        quote!(
            fn main() {}
        )
    });
    quote! {
        #errors
        #item
        #main
    }
}

fn check_arguments(attr: &TokenStream2, errors: &mut Errors) {
    if !attr.is_empty() {
        errors.push(syn::Error::new_spanned(
            attr,
            "`#[durable_execution]` takes no arguments",
        ));
    }
}

fn check_signature(sig: &Signature, errors: &mut Errors) {
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            "a `#[durable_execution]` handler cannot be a `const fn`",
        ));
    }
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            "a `#[durable_execution]` handler must be an `async fn`",
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            "a `#[durable_execution]` handler cannot be `unsafe`",
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            "a `#[durable_execution]` handler cannot have an `extern` ABI",
        ));
    }
    if sig.ident == "main" {
        errors.push(syn::Error::new_spanned(
            &sig.ident,
            "a `#[durable_execution]` handler cannot be named `main`: the attribute generates `main`",
        ));
    }
    const GENERIC: &str = "a `#[durable_execution]` handler cannot be generic: name the concrete event and result types";
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(&sig.generics, GENERIC));
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(where_clause, GENERIC));
    }
    check_parameters(sig, errors);
    check_return_type(sig, errors);
}

fn check_parameters(sig: &Signature, errors: &mut Errors) {
    let mut parameters = Vec::with_capacity(sig.inputs.len());
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                "a `#[durable_execution]` handler must be a free function: it cannot take `self`",
            )),
            FnArg::Typed(parameter) => parameters.push(parameter),
        }
    }
    if parameters.len() != sig.inputs.len() {
        return;
    }
    let [event, context] = parameters.as_slice() else {
        let found = match parameters.len() {
            1 => "1 parameter".to_owned(),
            n => format!("{n} parameters"),
        };
        let message = format!(
            "a `#[durable_execution]` handler takes exactly two parameters, the event and the \
             `DurableContext`, as in `async fn handler(event: MyEvent, ctx: DurableContext)`; \
             found {found}"
        );
        let error = match parameters.get(2..) {
            // Point at the parameters in excess.
            Some(extra) => syn::Error::new_spanned(quote!(#(#extra),*), message),
            // Point at the parameter list.
            None => syn::Error::new(sig.paren_token.span.join(), message),
        };
        errors.push(error);
        return;
    };
    check_event(event, errors);
    check_context(event, context, errors);
}

fn check_event(event: &PatType, errors: &mut Errors) {
    match strip(&event.ty) {
        Type::ImplTrait(_) => errors.push(syn::Error::new_spanned(
            &event.ty,
            "the event of a `#[durable_execution]` handler cannot be `impl Trait`: name the type \
             the execution's input deserializes into",
        )),
        Type::Reference(_) => errors.push(syn::Error::new_spanned(
            &event.ty,
            "the event of a `#[durable_execution]` handler must be an owned type (it is \
             deserialized from the execution's input), not a reference",
        )),
        _ => {}
    }
}

fn check_context(event: &PatType, context: &PatType, errors: &mut Errors) {
    if is_durable_context(&context.ty) {
        return;
    }
    let message = match strip(&context.ty) {
        Type::Reference(reference) if is_durable_context(&reference.elem) => {
            "a `#[durable_execution]` handler takes the `DurableContext` by value \
             (`ctx: DurableContext`), not by reference"
        }
        _ if is_durable_context(&event.ty) => {
            "the second parameter of a `#[durable_execution]` handler must be the \
             `DurableContext`, after the event: `async fn handler(event: MyEvent, ctx: DurableContext)`"
        }
        _ => {
            "the second parameter of a `#[durable_execution]` handler must be the \
             `lambda_durable::DurableContext`"
        }
    };
    errors.push(syn::Error::new_spanned(&context.ty, message));
}

fn check_return_type(sig: &Signature, errors: &mut Errors) {
    const MESSAGE: &str = "a `#[durable_execution]` handler must return a `Result`, \
                           as in `-> Result<MyOutput, lambda_durable::Error>`";
    let ty = match &sig.output {
        // Point at the signature, which the return type should end.
        ReturnType::Default => return errors.push(syn::Error::new_spanned(sig, MESSAGE)),
        ReturnType::Type(_, ty) => ty,
    };
    match strip(ty) {
        // A `Result`, an alias of one, or a macro that may expand to one: the compiler
        // checks the rest.
        Type::Path(_) | Type::Macro(_) => {}
        Type::ImplTrait(_) => errors.push(syn::Error::new_spanned(
            ty,
            "a `#[durable_execution]` handler must return a concrete `Result` type, not \
             `impl Trait`, as in `-> Result<MyOutput, lambda_durable::Error>`",
        )),
        _ => errors.push(syn::Error::new_spanned(ty, MESSAGE)),
    }
}

/// Whether `ty` is a path ending in `DurableContext` (`DurableContext`,
/// `lambda_durable::DurableContext`, ...).
fn is_durable_context(ty: &Type) -> bool {
    match strip(ty) {
        Type::Path(path) => {
            path.qself.is_none()
                && path
                    .path
                    .segments
                    .last()
                    .is_some_and(|last| last.ident == "DurableContext" && last.arguments.is_none())
        }
        _ => false,
    }
}

/// `ty` without the parentheses and invisible groups (from `macro_rules!` fragments)
/// around it.
fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(inner) => strip(&inner.elem),
        Type::Group(inner) => strip(&inner.elem),
        _ => ty,
    }
}

/// The validation errors found so far, reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    fn to_compile_errors(&self) -> Option<TokenStream2> {
        self.0.as_ref().map(syn::Error::to_compile_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(attr: &str, item: &str) -> String {
        let attr: TokenStream2 = attr.parse().expect("attribute tokens");
        let item: TokenStream2 = item.parse().expect("item tokens");
        expand(attr, item).to_string()
    }

    fn errors_of(attr: &str, item: &str) -> Vec<String> {
        let attr: TokenStream2 = attr.parse().expect("attribute tokens");
        let item: TokenStream2 = item.parse().expect("item tokens");
        let mut errors = Errors::default();
        check_arguments(&attr, &mut errors);
        let function: ItemFn = syn::parse2(item).expect("a function");
        check_signature(&function.sig, &mut errors);
        errors
            .0
            .map(|errors| errors.into_iter().map(|e| e.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn expands_to_the_handler_and_main() {
        let item = "pub async fn handler(event: Order, ctx: DurableContext) -> Result<Receipt, Error> { todo!() }";
        let expected: TokenStream2 = quote! {
            pub async fn handler(event: Order, ctx: DurableContext) -> Result<Receipt, Error> { todo!() }

            fn main() -> ::std::result::Result<(), ::lambda_durable::__macro_support::BoxError> {
                ::lambda_durable::logging::init_subscriber();
                ::lambda_durable::__macro_support::tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?
                    .block_on(::lambda_durable::run(handler))?;
                ::std::result::Result::Ok(())
            }
        };
        assert_eq!(expand_str("", item), expected.to_string());
    }

    #[test]
    fn accepts_qualified_context_paths_and_result_aliases() {
        for item in [
            "async fn h(e: E, ctx: lambda_durable::DurableContext) -> Result<T, Error> {}",
            "async fn h(_: (), mut ctx: ::lambda_durable::DurableContext) -> MyResult<T> {}",
            "async fn h(e: E, ctx: (DurableContext)) -> std::result::Result<(), E> {}",
        ] {
            assert_eq!(errors_of("", item), Vec::<String>::new(), "{item}");
        }
    }

    #[test]
    fn reports_every_problem() {
        let errors = errors_of("main = false", "unsafe fn main<T>(ctx: &DurableContext) {}");
        assert_eq!(errors.len(), 7, "{errors:#?}");
    }

    #[test]
    fn rejects_bad_signatures() {
        for (item, fragment) in [
            (
                "fn h(e: E, c: DurableContext) -> R {}",
                "must be an `async fn`",
            ),
            ("async fn h(c: DurableContext) -> R {}", "found 1 parameter"),
            ("async fn h() -> R {}", "found 0 parameters"),
            (
                "async fn h(e: E, c: DurableContext, x: X) -> R {}",
                "found 3 parameters",
            ),
            (
                "async fn h(e: E, c: Context) -> R {}",
                "must be the `lambda_durable::DurableContext`",
            ),
            (
                "async fn h(c: DurableContext, e: E) -> R {}",
                "after the event",
            ),
            ("async fn h(e: E, c: &DurableContext) -> R {}", "by value"),
            (
                "async fn h(e: E, c: DurableContext) {}",
                "must return a `Result`",
            ),
            (
                "async fn h(e: E, c: DurableContext) -> () {}",
                "must return a `Result`",
            ),
            (
                "async fn h(e: E, c: DurableContext) -> impl Sized {}",
                "not `impl Trait`",
            ),
            (
                "async fn h<T>(e: T, c: DurableContext) -> R {}",
                "cannot be generic",
            ),
            (
                "async fn h(e: E, c: DurableContext) -> R where E: Sized {}",
                "cannot be generic",
            ),
            (
                "async fn h(self, c: DurableContext) -> R {}",
                "cannot take `self`",
            ),
            (
                "async fn h(e: &str, c: DurableContext) -> R {}",
                "owned type",
            ),
            (
                "async fn h(e: impl Sized, c: DurableContext) -> R {}",
                "cannot be `impl Trait`",
            ),
            (
                "async fn main(e: E, c: DurableContext) -> R {}",
                "cannot be named `main`",
            ),
        ] {
            let errors = errors_of("", item);
            assert!(
                errors.len() == 1 && errors[0].contains(fragment),
                "{item}: {errors:#?}"
            );
        }
    }

    #[test]
    fn keeps_the_item_after_errors() {
        let expanded = expand_str("x", "fn handler() {}");
        assert!(expanded.contains("compile_error"), "{expanded}");
        assert!(expanded.contains("fn handler () { }"), "{expanded}");
        assert!(expanded.contains("fn main () { }"), "{expanded}");
    }
}
