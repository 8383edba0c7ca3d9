//! The OpenAPI document is generated from the code and must describe exactly the routes
//! `template.yaml` wires: a route missing on either side fails here.

use std::collections::BTreeSet;

/// `METHOD /path` of every HttpApi event in template.yaml. The template writes each as
/// `Properties: {ApiId: !Ref HttpApi, Path: ..., Method: ...}` (checked below).
fn template_routes() -> BTreeSet<String> {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
            .unwrap();
    let http_events = template.matches("Type: HttpApi").count();
    let routes: BTreeSet<String> = template
        .lines()
        .filter(|l| l.contains("ApiId: !Ref HttpApi"))
        .map(|l| {
            let field = |name: &str| {
                let rest = &l[l.find(&format!("{name}: ")).expect(name) + name.len() + 2..];
                match rest.strip_prefix('"') {
                    Some(quoted) => quoted.split('"').next().unwrap().to_owned(),
                    None => rest.split([',', '}']).next().unwrap().trim().to_owned(),
                }
            };
            format!("{} {}", field("Method").to_uppercase(), field("Path"))
        })
        .collect();
    assert_eq!(
        routes.len(),
        http_events,
        "every HttpApi event is written in the one-line form, once"
    );
    routes
}

fn document_routes(doc: &utoipa::openapi::OpenApi) -> BTreeSet<String> {
    let json = serde_json::to_value(doc).unwrap();
    json["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect()
}

#[test]
fn the_document_and_the_template_name_the_same_routes() {
    let doc = openapi::document();
    let in_template = template_routes();
    let in_document = document_routes(&doc);
    let undocumented: Vec<_> = in_template.difference(&in_document).collect();
    let unwired: Vec<_> = in_document.difference(&in_template).collect();
    assert!(
        undocumented.is_empty(),
        "routes in template.yaml missing from the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unwired.is_empty(),
        "documented routes template.yaml does not wire: {unwired:?}"
    );
}

#[test]
fn the_document_is_openapi_3_1_and_every_secured_operation_documents_401_problems() {
    let json = serde_json::to_value(openapi::document()).unwrap();
    assert_eq!(json["openapi"], "3.1.0");
    assert!(json["components"]["securitySchemes"]["bearer"].is_object());
    assert!(json["components"]["schemas"]["Problem"].is_object());
    let mut operation_ids = std::collections::HashSet::new();
    for (path, ops) in json["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(
                operation_ids.insert(id.clone()),
                "operationId {id} is used twice"
            );
            let secured = op.get("security").is_some();
            let responses = op["responses"].as_object().unwrap();
            if secured {
                let unauth = &responses
                    .get("401")
                    .unwrap_or_else(|| panic!("{method} {path} lacks 401"))["content"];
                assert!(
                    unauth["application/problem+json"].is_object(),
                    "{method} {path}: 401 is problem+json"
                );
            }
            for (status, response) in responses {
                if status.starts_with('4') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_embedded_document_is_the_one_the_code_generates() {
    let generated = openapi::document().to_pretty_json().unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"),
            &generated,
        )
        .unwrap();
        return;
    }
    assert!(
        openapi::DOCUMENT == generated,
        "functions/openapi/openapi.json is out of date: run \
         UPDATE_OPENAPI=1 cargo test -p openapi --test document, and commit it"
    );
}

#[tokio::test]
async fn the_document_is_served_as_json() {
    let doc = openapi::DOCUMENT;
    let req = shared::testing::api::request(
        lambda_http::http::Method::GET,
        "/v1/openapi.json",
        None,
        None,
    );
    let r = shared::testing::api::reply(openapi::handle(doc, req).await);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["info"]["title"], "Adpilot API");
}

#[test]
fn every_schema_reference_resolves() {
    let json = serde_json::to_value(openapi::document()).unwrap();
    let text = json.to_string();
    let schemas = json["components"]["schemas"].as_object().unwrap();
    let mut missing: Vec<&str> = text
        .split("\"#/components/schemas/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .filter(|name| !schemas.contains_key(*name))
        .collect();
    missing.dedup();
    assert!(missing.is_empty(), "unresolvable $refs: {missing:?}");
}
