//! The fetcher against real local servers: each SSRF rule of the brand analyzer holds on
//! the wire. The servers are on 127.0.0.1, which only `FETCH_ALLOW_HOSTS` lets through,
//! so every test also shows that the allow-list relaxes exactly its own host:port.

use std::time::Duration;

use shared::webfetch::fetcher::Fetcher;
use shared::webfetch::{AllowHosts, Refusal};
use tokio::io::AsyncWriteExt;
use url::Url;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fetcher_for(server: &str) -> Fetcher {
    let port = Url::parse(server).unwrap().port().unwrap();
    Fetcher::new(
        AllowHosts::parse(&format!("127.0.0.1:{port}")),
        "AdpilotBot/test",
    )
}

async fn redirecting(to: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/go"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", to))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_listed_local_site_is_fetched_and_an_unlisted_one_is_not() {
    let server = MockServer::start().await;
    Mock::given(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<h1>hi</h1>"))
        .mount(&server)
        .await;
    let url = Url::parse(&server.uri()).unwrap();
    let got = fetcher_for(&server.uri()).get(&url, 1024).await.unwrap();
    assert_eq!((got.status, got.text().as_str()), (200, "<h1>hi</h1>"));
    let unlisted = Fetcher::new(AllowHosts::default(), "AdpilotBot/test");
    assert!(matches!(
        unlisted.get(&url, 1024).await,
        Err(Refusal::Port(_))
    ));
    let other_port = Fetcher::new(AllowHosts::parse("127.0.0.1:1"), "AdpilotBot/test");
    assert!(matches!(
        other_port.get(&url, 1024).await,
        Err(Refusal::Port(_))
    ));
}

#[tokio::test]
async fn a_redirect_to_loopback_on_another_port_is_refused() {
    let server = redirecting("http://127.0.0.1:5432/").await;
    let url = Url::parse(&format!("{}/go", server.uri())).unwrap();
    assert_eq!(
        fetcher_for(&server.uri())
            .get(&url, 1024)
            .await
            .unwrap_err(),
        Refusal::Port(5432)
    );
    let server = redirecting("http://127.0.0.1/admin").await;
    let url = Url::parse(&format!("{}/go", server.uri())).unwrap();
    assert!(matches!(
        fetcher_for(&server.uri()).get(&url, 1024).await,
        Err(Refusal::Private { .. })
    ));
}

#[tokio::test]
async fn a_redirect_to_the_cloud_metadata_address_is_refused_in_any_spelling() {
    for to in [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
    ] {
        let server = redirecting(to).await;
        let url = Url::parse(&format!("{}/go", server.uri())).unwrap();
        let refused = fetcher_for(&server.uri()).get(&url, 1024).await;
        assert!(
            matches!(refused, Err(Refusal::Private { .. })),
            "{to}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn more_than_five_redirects_are_refused() {
    let server = redirecting("/go").await;
    let url = Url::parse(&format!("{}/go", server.uri())).unwrap();
    assert_eq!(
        fetcher_for(&server.uri())
            .get(&url, 1024)
            .await
            .unwrap_err(),
        Refusal::TooManyRedirects(5)
    );
    let asked = server.received_requests().await.unwrap().len();
    assert_eq!(asked, 6, "the first request and five redirects");
}

#[tokio::test]
async fn a_body_over_its_cap_is_refused_whether_announced_or_streamed() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("a".repeat(3 << 20)))
        .mount(&server)
        .await;
    let url = Url::parse(&format!("{}/big", server.uri())).unwrap();
    assert!(matches!(
        fetcher_for(&server.uri()).get(&url, 2 << 20).await,
        Err(Refusal::TooLarge { .. })
    ));

    // No content-length: the cap stops the read while the server is still sending.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = tokio::io::AsyncReadExt::read(&mut sock, &mut buf).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n")
            .await;
        let chunk = vec![b'a'; 64 << 10];
        for _ in 0..1024 {
            if sock.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let url = Url::parse(&format!("http://{addr}/endless")).unwrap();
    let f = Fetcher::new(AllowHosts::parse(&addr.to_string()), "AdpilotBot/test");
    assert!(matches!(
        f.get(&url, 1 << 20).await,
        Err(Refusal::TooLarge { .. })
    ));
}

#[tokio::test]
async fn a_slow_server_is_given_up_on_at_the_whole_fetch_deadline() {
    let server = MockServer::start().await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let url = Url::parse(&format!("{}/slow", server.uri())).unwrap();
    let f = fetcher_for(&server.uri())
        .with_timeouts(Duration::from_millis(500), Duration::from_secs(1));
    let started = std::time::Instant::now();
    assert!(matches!(
        f.get(&url, 1024).await,
        Err(Refusal::Timeout(_, 1))
    ));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_proxy_in_the_environment_is_not_used() {
    // Nextest runs each test in its own process, so the variable reaches only this test
    // (and no other thread reads the environment while it is set).
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("HTTP_PROXY", "http://127.0.0.1:9/");
        std::env::set_var("http_proxy", "http://127.0.0.1:9/");
        std::env::set_var("ALL_PROXY", "http://127.0.0.1:9/");
    }
    let server = MockServer::start().await;
    Mock::given(path("/"))
        .respond_with(ResponseTemplate::new(200).set_body_string("direct"))
        .mount(&server)
        .await;
    let url = Url::parse(&server.uri()).unwrap();
    assert_eq!(
        fetcher_for(&server.uri())
            .get(&url, 1024)
            .await
            .unwrap()
            .text(),
        "direct"
    );
}

#[tokio::test]
async fn a_name_that_resolves_inside_is_refused_before_any_connection() {
    let f = Fetcher::new(AllowHosts::default(), "AdpilotBot/test");
    let url = Url::parse("http://localhost/").unwrap();
    assert!(matches!(
        f.get(&url, 1024).await,
        Err(Refusal::Private { .. })
    ));
    let url = Url::parse("http://user:pw@example.com/").unwrap();
    assert_eq!(f.get(&url, 1024).await.unwrap_err(), Refusal::Credentials);
}
