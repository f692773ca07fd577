//! Prints the public API of a library crate from its rustdoc JSON, one item a line, sorted:
//! `public-api-listing target/public-api/doc/defender_tvm.json`. `.ci/public-api.sh` runs it
//! and says how the JSON is made on stable.
//!
//! What it lists, walking from the crate root through every public module:
//! - each public item at **each** public path it is reachable at: an item of a private module
//!   re-exported at the root and in a module is listed at both (`pub use` and glob
//!   `pub use m::*` are followed), so the listing shows how large each module is;
//! - struct fields, enum variants, trait items, and the methods, constants and types of
//!   inherent impls, with their signatures;
//! - one line per trait impl (`impl Clone for X`), with its associated types. Not listed: the
//!   auto-trait impls (`Send`, `Unpin`, ...) and other crates' blanket impls
//!   (`impl<T> From<T> for T`) that every type gets, `StructuralPartialEq` (the marker
//!   `derive(PartialEq)` adds), nor the methods of trait impls (the trait says what they are);
//! - a re-exported module that is listed at another path is one line `pub use <path> =
//!   <module>`, not a second copy; so is a glob of a module being walked (`pub use super::*`);
//!   an item of another crate is one line `pub use <path> = <its path there>`.
//!
//! `#[doc(hidden)]` and private items are not in the JSON (rustdoc strips them). In signatures
//! an item of this crate is named by its shortest public path (the item being listed by the
//! path it is listed at), another crate's by the path rustdoc gives (where it is defined, e.g.
//! `alloc::string::String`). Lines are sorted by item path, segment by segment, an item before
//! its impls and members: the output depends only on the JSON.

use rustdoc_types::{
    Abi, AssocItemConstraintKind as Constraint, Attribute, Crate, FORMAT_VERSION, FunctionHeader,
    FunctionSignature, GenericArg, GenericArgs, GenericBound, GenericParamDef,
    GenericParamDefKind as Param, Generics, Id, Impl, Item, ItemEnum, Path, PreciseCapturingArg,
    StructKind, Term, TraitBoundModifier, Type, VariantKind, Visibility, WherePredicate,
};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(file) = std::env::args().nth(1) else {
        eprintln!("usage: public-api-listing <crate>.json  (rustdoc JSON)");
        return ExitCode::from(2);
    };
    match load(&file) {
        Ok(krate) => Api::new(&krate).list().iter().for_each(|line| println!("{line}")),
        Err(e) => {
            eprintln!("public-api-listing: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// Reads the JSON, after checking it is the format this reader's `rustdoc-types` knows.
fn load(file: &str) -> Result<Crate, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))?;
    let found = json.get("format_version").and_then(serde_json::Value::as_u64);
    if found != Some(u64::from(FORMAT_VERSION)) {
        let found = found.map_or("none".to_string(), |v| v.to_string());
        return Err(format!(
            "{file} has rustdoc JSON format_version {found}, but this reader reads format \
             version {FORMAT_VERSION} (rustdoc-types 0.{FORMAT_VERSION}.x). The toolchain \
             changed: set `rustdoc-types` in .ci/public-api/Cargo.toml to the version whose \
             FORMAT_VERSION is {found} (for 0.N.x it is N), `cargo update` it there, fix \
             what no longer compiles, then run .ci/public-api.sh --bless and review the diff."
        ));
    }
    serde_json::from_value(json).map_err(|e| format!("{file}: not rustdoc JSON: {e}"))
}

/// `open` + the items rendered and joined by `sep` + `close`, or nothing if there are none.
fn wrap<T>(open: &str, items: &[T], f: impl FnMut(&T) -> String, sep: &str, close: &str) -> String {
    let shown: Vec<String> = items.iter().map(f).collect();
    if shown.is_empty() { String::new() } else { format!("{open}{}{close}", shown.join(sep)) }
}

/// `word` if `on`: the keywords of a line (`mut `, `unsafe `, ...).
fn kw(on: bool, word: &str) -> &str {
    if on { word } else { "" }
}

#[derive(Default)]
struct Api<'a> {
    krate: Option<&'a Crate>,
    /// Every (item, public path) the walk found: what gets listed.
    entries: Vec<(Id, String)>,
    /// The shortest public path of each item of this crate: how signatures name it.
    best: HashMap<Id, String>,
    /// The modules listed at some path, and those being walked (against glob cycles).
    walked: HashSet<Id>,
    stack: Vec<Id>,
    /// `pub use some::module;`: expanded at the end unless the module is listed elsewhere.
    module_uses: VecDeque<(Id, String)>,
    /// While an item is rendered: it and its path, so its members name it at that path.
    this: Option<(Id, String)>,
    /// (path by segment, 0 for the item or a member / 1 for an impl, text).
    lines: BTreeSet<(Vec<String>, u8, String)>,
}

impl<'a> Api<'a> {
    fn new(krate: &'a Crate) -> Self {
        Api { krate: Some(krate), ..Api::default() }
    }

    fn krate(&self) -> &'a Crate {
        self.krate.expect("set by Api::new")
    }

    fn get(&self, id: Id) -> Option<&'a Item> {
        self.krate().index.get(&id)
    }

    fn name(&self, id: Id) -> String {
        self.get(id).and_then(|i| i.name.clone()).unwrap_or_default()
    }

    /// The listing: finds every public path, then renders each item found at each.
    fn list(mut self) -> Vec<String> {
        let root = self.krate().root;
        self.add(root, self.name(root));
        while let Some((id, path)) = self.module_uses.pop_front() {
            match self.best.get(&id).filter(|_| self.walked.contains(&id)) {
                Some(module) => self.line(&path, 0, format!("pub use {path} = {module}")),
                None => self.add(id, path),
            }
        }
        for (id, path) in std::mem::take(&mut self.entries) {
            self.this = Some((id, path.clone()));
            self.item(&self.krate().index[&id], &path);
        }
        self.lines.into_iter().map(|(_, _, text)| text).collect()
    }

    // ---- Finding the public paths ----

    /// Records item `id` as public at `path`; walks it if it is a module.
    fn add(&mut self, id: Id, path: String) {
        let best = self.best.entry(id).or_insert_with(|| path.clone());
        if (path.matches("::").count(), &path) < (best.matches("::").count(), &*best) {
            *best = path.clone();
        }
        self.entries.push((id, path.clone()));
        if matches!(self.get(id).map(|i| &i.inner), Some(ItemEnum::Module(_))) {
            self.walked.insert(id);
            self.walk(id, &path);
        }
    }

    /// The items of module `id` (its own and those it imports) as seen at `path`.
    fn walk(&mut self, id: Id, path: &str) {
        let Some(ItemEnum::Module(module)) = self.get(id).map(|i| &i.inner) else {
            return;
        };
        self.stack.push(id);
        for child in &module.items {
            self.child(*child, path);
        }
        self.stack.pop();
    }

    fn child(&mut self, id: Id, parent: &str) {
        let Some(item) = self.get(id).filter(|i| i.visibility == Visibility::Public) else {
            return;
        };
        let ItemEnum::Use(u) = &item.inner else {
            return self.add(id, format!("{parent}::{}", self.name(id)));
        };
        let path = format!("{parent}::{}", u.name);
        let glob = format!("{parent}::*");
        match u.id.and_then(|t| self.get(t)) {
            Some(target) if u.is_glob => match &target.inner {
                ItemEnum::Module(_) if self.stack.contains(&target.id) => {
                    let from = self.path_of(target.id).unwrap_or_else(|| self.name(target.id));
                    self.line(&glob, 0, format!("pub use {glob} = {from}::*"));
                }
                ItemEnum::Module(_) => self.walk(target.id, parent),
                ItemEnum::Enum(e) => {
                    for v in &e.variants {
                        self.add(*v, format!("{parent}::{}", self.name(*v)));
                    }
                }
                _ => {}
            },
            Some(target) if matches!(target.inner, ItemEnum::Module(_)) => {
                self.module_uses.push_back((target.id, path));
            }
            Some(target) => self.add(target.id, path),
            // Not in the index: another crate's item, or one of ours that rustdoc stripped.
            None => {
                let from = match u.id.and_then(|t| self.krate().paths.get(&t)) {
                    Some(s) if s.crate_id == 0 => return,
                    Some(s) => s.path.join("::"),
                    None => u.source.clone(),
                };
                match u.is_glob {
                    true => self.line(&glob, 0, format!("pub use {glob} = {from}::*")),
                    false => self.line(&path, 0, format!("pub use {path} = {from}")),
                }
            }
        }
    }

    // ---- Rendering ----

    fn line(&mut self, path: &str, rank: u8, text: String) {
        let key = path.split("::").map(str::to_string).collect();
        self.lines.insert((key, rank, text));
    }

    /// The line of one item at `path`, and those of its members and impls.
    fn item(&mut self, item: &'a Item, path: &str) {
        let deprecated = kw(item.deprecation.is_some(), "#[deprecated] ");
        let exhaustive = kw(item.attrs.contains(&Attribute::NonExhaustive), "#[non_exhaustive] ");
        let members = |api: &mut Self, ids: &[Id]| {
            for id in ids {
                let member = &api.krate().index[id];
                let public = !matches!(member.inner, ItemEnum::StructField(_))
                    || member.visibility == Visibility::Public;
                if public {
                    api.item(member, &format!("{path}::{}", api.name(*id)));
                }
            }
        };
        let text = match &item.inner {
            ItemEnum::Module(_) => format!("pub mod {path}"),
            ItemEnum::Struct(s) => {
                let fields = match &s.kind {
                    StructKind::Tuple(fields) => self.tuple(fields, "pub "),
                    StructKind::Plain { fields, .. } => {
                        members(self, fields);
                        String::new()
                    }
                    StructKind::Unit => String::new(),
                };
                self.impls(&s.impls, path);
                let (params, bounds) = self.generics(&s.generics);
                format!("pub struct {path}{params}{fields}{bounds}")
            }
            ItemEnum::Enum(e) => {
                members(self, &e.variants);
                self.impls(&e.impls, path);
                let (params, bounds) = self.generics(&e.generics);
                format!("pub enum {path}{params}{bounds}")
            }
            ItemEnum::StructField(ty) => format!("pub {path}: {}", self.ty(ty)),
            ItemEnum::Variant(v) => {
                let fields = match &v.kind {
                    VariantKind::Plain => String::new(),
                    VariantKind::Tuple(fields) => self.tuple(fields, ""),
                    VariantKind::Struct { fields, has_stripped_fields } => {
                        let field = |f: &Id| format!("{}: {}", self.name(*f), self.field_type(*f));
                        let mut shown: Vec<String> = fields.iter().map(field).collect();
                        shown.extend(has_stripped_fields.then(|| "..".to_string()));
                        wrap(" { ", &shown, String::clone, ", ", " }")
                    }
                };
                let discriminant = v.discriminant.as_ref().map(|d| format!(" = {}", d.expr));
                format!("pub {path}{fields}{}", discriminant.unwrap_or_default())
            }
            ItemEnum::Function(f) => {
                let (params, bounds) = self.generics(&f.generics);
                let (header, sig) = (header(&f.header), self.sig(&f.sig));
                format!("pub {header}fn {path}{params}{sig}{bounds}")
            }
            ItemEnum::Trait(t) => {
                members(self, &t.items);
                for imp in &t.implementations {
                    let Some(ItemEnum::Impl(i)) = self.get(*imp).map(|i| &i.inner) else {
                        continue;
                    };
                    // Impls for this crate's types are listed with the type.
                    let local =
                        matches!(&i.for_, Type::ResolvedPath(p) if self.get(p.id).is_some());
                    if !i.is_synthetic && (i.blanket_impl.is_some() || !local) {
                        self.line(path, 1, self.impl_header(i));
                    }
                }
                let (params, bounds) = self.generics(&t.generics);
                let (unsafety, auto) = (kw(t.is_unsafe, "unsafe "), kw(t.is_auto, "auto "));
                let supertraits = self.bounds(": ", &t.bounds);
                format!("pub {unsafety}{auto}trait {path}{params}{supertraits}{bounds}")
            }
            ItemEnum::TypeAlias(t) => {
                let (params, bounds) = self.generics(&t.generics);
                format!("pub type {path}{params} = {}{bounds}", self.ty(&t.type_))
            }
            ItemEnum::Constant { type_, .. } | ItemEnum::AssocConst { type_, .. } => {
                format!("pub const {path}: {}", self.ty(type_))
            }
            ItemEnum::AssocType { generics, bounds, type_ } => {
                let (params, bounds) = (self.params(&generics.params), self.bounds(": ", bounds));
                let value = type_.as_ref().map(|t| format!(" = {}", self.ty(t)));
                format!("pub type {path}{params}{bounds}{}", value.unwrap_or_default())
            }
            ItemEnum::Use(_) | ItemEnum::Impl(_) => return,
            // Kinds this crate does not have (unions, statics, macros, ...): path and kind.
            other => format!("pub {} {path}", format!("{:?}", other.item_kind()).to_lowercase()),
        };
        self.line(path, 0, format!("{deprecated}{exhaustive}{text}"));
    }

    fn field_type(&self, id: Id) -> String {
        match self.get(id).map(|i| &i.inner) {
            Some(ItemEnum::StructField(ty)) => self.ty(ty),
            _ => String::new(),
        }
    }

    /// `(pub T, _)`: a tuple struct's or variant's fields, `_` for a private one.
    fn tuple(&self, fields: &[Option<Id>], vis: &str) -> String {
        let field =
            |f: &Option<Id>| f.map_or("_".into(), |f| format!("{vis}{}", self.field_type(f)));
        format!("({})", wrap("", fields, field, ", ", ""))
    }

    /// A type's impls: the public members of inherent ones, a line for each trait impl.
    fn impls(&mut self, impls: &[Id], path: &str) {
        let this = self.this.as_ref().map(|t| t.0);
        for id in impls {
            let Some(ItemEnum::Impl(imp)) = self.get(*id).map(|i| &i.inner) else {
                continue;
            };
            // rustdoc also puts `impl From<ThisType> for OtherType` here: it is listed with
            // the other type if that one is ours, here if not.
            let for_ours = matches!(&imp.for_, Type::ResolvedPath(p)
                if Some(p.id) != this && self.get(p.id).is_some());
            let marker = imp.trait_.as_ref().is_some_and(|t| t.path == "StructuralPartialEq");
            if imp.is_synthetic || imp.blanket_impl.is_some() || for_ours || marker {
                continue;
            }
            if imp.trait_.is_some() || !imp.generics.params.is_empty() {
                self.line(path, 1, self.impl_header(imp));
            }
            for member in imp.items.iter().filter(|_| imp.trait_.is_none()) {
                let item = &self.krate().index[member];
                if item.visibility == Visibility::Public {
                    self.item(item, &format!("{path}::{}", self.name(*member)));
                }
            }
        }
    }

    /// `impl<T> Trait for Type<T> where .. { type Item = ..; }`.
    fn impl_header(&self, imp: &Impl) -> String {
        let (params, bounds) = self.generics(&imp.generics);
        let for_ = self.ty(&imp.for_);
        let Some(trait_) = &imp.trait_ else {
            return format!("impl{params} {for_}{bounds}");
        };
        let assoc: Vec<String> = (imp.items.iter())
            .filter_map(|id| match &self.get(*id)?.inner {
                ItemEnum::AssocType { type_: Some(t), .. } => {
                    Some(format!("type {} = {};", self.name(*id), self.ty(t)))
                }
                _ => None,
            })
            .collect();
        let assoc = wrap(" { ", &assoc, String::clone, " ", " }");
        let (unsafety, not) = (kw(imp.is_unsafe, "unsafe "), kw(imp.is_negative, "!"));
        let trait_ = self.path(trait_);
        format!("{unsafety}impl{params} {not}{trait_} for {for_}{bounds}{assoc}")
    }

    fn sig(&self, sig: &FunctionSignature) -> String {
        let is_self = |t: &Type| matches!(t, Type::Generic(s) if s == "Self");
        let input = |(name, ty): &(String, Type)| match (name.as_str(), ty) {
            ("self", ty) if is_self(ty) => "self".into(),
            ("self", Type::BorrowedRef { lifetime, is_mutable, type_ }) if is_self(type_) => {
                format!("&{}{}self", lt(lifetime), kw(*is_mutable, "mut "))
            }
            (name, ty) => format!("{name}: {}", self.ty(ty)),
        };
        let variadic = kw(sig.is_c_variadic, ", ...");
        let output = sig.output.as_ref().map(|t| format!(" -> {}", self.ty(t)));
        let inputs = wrap("", &sig.inputs, input, ", ", "");
        format!("({inputs}{variadic}){}", output.unwrap_or_default())
    }

    /// `<'a, T: Bound>` and ` where ..`.
    fn generics(&self, g: &Generics) -> (String, String) {
        let predicate = |p: &WherePredicate| match p {
            WherePredicate::BoundPredicate { type_, bounds, generic_params } => {
                let hrtb = self.hrtb(generic_params);
                format!("{hrtb}{}{}", self.ty(type_), self.bounds(": ", bounds))
            }
            WherePredicate::LifetimePredicate { lifetime, outlives } => {
                format!("{lifetime}: {}", outlives.join(" + "))
            }
            WherePredicate::EqPredicate { lhs, rhs } => {
                format!("{} = {}", self.ty(lhs), self.term(rhs))
            }
        };
        (self.params(&g.params), wrap(" where ", &g.where_predicates, predicate, ", ", ""))
    }

    fn params(&self, params: &[GenericParamDef]) -> String {
        // `impl Trait` arguments are synthetic parameters: shown as the argument's type.
        let params: Vec<_> = (params.iter())
            .filter(|p| !matches!(p.kind, Param::Type { is_synthetic: true, .. }))
            .collect();
        let param = |p: &&GenericParamDef| match &p.kind {
            Param::Lifetime { outlives } => {
                format!("{}{}", p.name, wrap(": ", outlives, String::clone, " + ", ""))
            }
            Param::Type { bounds, default, .. } => {
                let default = default.as_ref().map(|t| format!(" = {}", self.ty(t)));
                format!("{}{}{}", p.name, self.bounds(": ", bounds), default.unwrap_or_default())
            }
            Param::Const { type_, default } => {
                let default = default.as_ref().map(|d| format!(" = {d}"));
                format!("const {}: {}{}", p.name, self.ty(type_), default.unwrap_or_default())
            }
        };
        wrap("<", &params, param, ", ", ">")
    }

    /// `for<'a> `, or nothing.
    fn hrtb(&self, params: &[GenericParamDef]) -> String {
        let params = self.params(params);
        if params.is_empty() { params } else { format!("for{params} ") }
    }

    /// `<lead>A + ?Sized + 'a`, or nothing when there are no bounds.
    fn bounds(&self, lead: &str, bounds: &[GenericBound]) -> String {
        let bound = |b: &GenericBound| match b {
            GenericBound::TraitBound { trait_, generic_params, modifier } => {
                let modifier = match modifier {
                    TraitBoundModifier::None => "",
                    TraitBoundModifier::Maybe => "?",
                    TraitBoundModifier::MaybeConst => "[const] ",
                };
                format!("{}{modifier}{}", self.hrtb(generic_params), self.path(trait_))
            }
            GenericBound::Outlives(lifetime) => lifetime.clone(),
            GenericBound::Use(args) => {
                let arg = |a: &PreciseCapturingArg| match a {
                    PreciseCapturingArg::Lifetime(s) | PreciseCapturingArg::Param(s) => s.clone(),
                };
                format!("use<{}>", wrap("", args, arg, ", ", ""))
            }
        };
        wrap(lead, bounds, bound, " + ", "")
    }

    fn ty(&self, ty: &Type) -> String {
        let ty_ = |t: &Type| self.ty(t);
        match ty {
            Type::ResolvedPath(p) => self.path(p),
            Type::DynTrait(d) => {
                let poly = |t: &rustdoc_types::PolyTrait| {
                    format!("{}{}", self.hrtb(&t.generic_params), self.path(&t.trait_))
                };
                let lifetime = d.lifetime.as_ref().map(|l| format!(" + {l}"));
                format!(
                    "dyn {}{}",
                    wrap("", &d.traits, poly, " + ", ""),
                    lifetime.unwrap_or_default()
                )
            }
            Type::Generic(name) | Type::Primitive(name) => name.clone(),
            Type::FunctionPointer(f) => {
                let (hrtb, header) = (self.hrtb(&f.generic_params), header(&f.header));
                let inputs = wrap("", &f.sig.inputs, |(_, t)| self.ty(t), ", ", "");
                let output = f.sig.output.as_ref().map(|t| format!(" -> {}", self.ty(t)));
                format!("{hrtb}{header}fn({inputs}){}", output.unwrap_or_default())
            }
            Type::Tuple(types) if types.len() == 1 => format!("({},)", self.ty(&types[0])),
            Type::Tuple(types) => format!("({})", wrap("", types, ty_, ", ", "")),
            Type::Slice(t) => format!("[{}]", self.ty(t)),
            Type::Array { type_, len } => format!("[{}; {len}]", self.ty(type_)),
            Type::Pat { type_, .. } => self.ty(type_),
            Type::ImplTrait(bounds) => self.bounds("impl ", bounds),
            Type::Infer => "_".into(),
            Type::RawPointer { is_mutable, type_ } => {
                format!("*{} {}", if *is_mutable { "mut" } else { "const" }, self.ty(type_))
            }
            Type::BorrowedRef { lifetime, is_mutable, type_ } => {
                format!("&{}{}{}", lt(lifetime), kw(*is_mutable, "mut "), self.ty(type_))
            }
            Type::QualifiedPath { name, args, self_type, trait_ } => {
                let args = args.as_ref().map(|a| self.args(a)).unwrap_or_default();
                match trait_ {
                    Some(t) => {
                        format!("<{} as {}>::{name}{args}", self.ty(self_type), self.path(t))
                    }
                    None => format!("{}::{name}{args}", self.ty(self_type)),
                }
            }
        }
    }

    /// How signatures name item `id`: the item being listed by the path it is listed at, ours
    /// by its shortest public path, another crate's by rustdoc's path. `None`: a private item.
    fn path_of(&self, id: Id) -> Option<String> {
        match (&self.this, self.best.get(&id), self.krate().paths.get(&id)) {
            (Some((this, path)), _, _) if *this == id => Some(path.clone()),
            (_, Some(best), _) => Some(best.clone()),
            (_, None, summary) => summary.map(|s| s.path.join("::")),
        }
    }

    /// A path with its generic arguments (a private item as written in the source).
    fn path(&self, p: &Path) -> String {
        let name = self.path_of(p.id).unwrap_or_else(|| p.path.clone());
        name + &p.args.as_ref().map(|a| self.args(a)).unwrap_or_default()
    }

    fn args(&self, args: &GenericArgs) -> String {
        match args {
            GenericArgs::AngleBracketed { args, constraints } => {
                let mut shown: Vec<String> = (args.iter())
                    .map(|a| match a {
                        GenericArg::Lifetime(l) => l.clone(),
                        GenericArg::Type(t) => self.ty(t),
                        GenericArg::Const(c) => c.expr.clone(),
                        GenericArg::Infer => "_".into(),
                    })
                    .collect();
                shown.extend(constraints.iter().map(|c| {
                    let args = c.args.as_ref().map(|a| self.args(a)).unwrap_or_default();
                    match &c.binding {
                        Constraint::Equality(term) => {
                            format!("{}{args} = {}", c.name, self.term(term))
                        }
                        Constraint::Constraint(bounds) => {
                            format!("{}{args}{}", c.name, self.bounds(": ", bounds))
                        }
                    }
                }));
                wrap("<", &shown, String::clone, ", ", ">")
            }
            GenericArgs::Parenthesized { inputs, output } => {
                let output = output.as_ref().map(|t| format!(" -> {}", self.ty(t)));
                let inputs = wrap("", inputs, |t| self.ty(t), ", ", "");
                format!("({inputs}){}", output.unwrap_or_default())
            }
            GenericArgs::ReturnTypeNotation => "(..)".into(),
        }
    }

    fn term(&self, term: &Term) -> String {
        match term {
            Term::Type(t) => self.ty(t),
            Term::Constant(c) => c.expr.clone(),
        }
    }
}

/// `'a `, or nothing.
fn lt(lifetime: &Option<String>) -> String {
    lifetime.as_ref().map(|l| format!("{l} ")).unwrap_or_default()
}

/// `const async unsafe extern "C" `: what stands before `fn`.
fn header(h: &FunctionHeader) -> String {
    let abi = match &h.abi {
        Abi::Rust => String::new(),
        Abi::C { unwind: false } => "extern \"C\" ".into(),
        other => format!("extern {other:?} "),
    };
    let (c, a, u) =
        (kw(h.is_const, "const "), kw(h.is_async, "async "), kw(h.is_unsafe, "unsafe "));
    format!("{c}{a}{u}{abi}")
}
