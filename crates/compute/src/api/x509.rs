//! A self-signed X.509 certificate for the `x509` keypairs Nova generates
//! (microversions 2.2 to 2.91): an Ed25519 key, the certificate in PEM as
//! the public key and the PKCS#8 private key in PEM, DER written by hand
//! (only the handful of structures a certificate needs).

use base64::Engine as _;
use signature::Signer;
use ssh_key::private::Ed25519Keypair;

use crate::error::{Error, Result};

/// The OID 1.3.101.112 (Ed25519), as an `AlgorithmIdentifier`.
const ED25519_ALG: [u8; 7] = [0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];

/// One DER element: tag, length, contents.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// `CN=<cn>` as a `Name`.
fn name(cn: &str) -> Vec<u8> {
    let attr = seq(&[&[0x06, 0x03, 0x55, 0x04, 0x03], &tlv(0x0c, cn.as_bytes())]);
    seq(&[&tlv(0x31, &attr)])
}

/// `YYMMDDHHMMSSZ` of a time in microseconds.
fn utc_time(micros: i64) -> Vec<u8> {
    let iso = ferro_api::time::iso_seconds(micros);
    let digits: String = iso.chars().filter(char::is_ascii_digit).collect();
    let short = format!("{}Z", digits.get(2..14).unwrap_or("700101000000"));
    tlv(0x17, short.as_bytes())
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// `(certificate PEM, private key PEM)` for a certificate naming `cn`.
pub fn generate(cn: &str) -> Result<(String, String)> {
    let key = Ed25519Keypair::random(&mut rand::rngs::OsRng);
    let mut serial: [u8; 16] = rand::random();
    serial[0] &= 0x7f;
    let now = ferro_api::time::now_micros();
    let ten_years = 10 * 365 * 86_400 * 1_000_000;
    let spki = seq(&[
        &ED25519_ALG,
        &tlv(0x03, &[&[0u8][..], &key.public.0[..]].concat()),
    ]);
    let tbs = seq(&[
        &tlv(0xa0, &tlv(0x02, &[2])),
        &tlv(0x02, &serial),
        &ED25519_ALG,
        &name(cn),
        &seq(&[&utc_time(now), &utc_time(now + ten_years)]),
        &name(cn),
        &spki,
    ]);
    let sig = key
        .try_sign(&tbs)
        .map_err(|e| Error::internal(e.to_string()))?;
    let bits = [&[0u8][..], sig.as_bytes()].concat();
    let cert = seq(&[&tbs, &ED25519_ALG, &tlv(0x03, &bits)]);
    let private = seq(&[
        &tlv(0x02, &[0]),
        &ED25519_ALG,
        &tlv(0x04, &tlv(0x04, key.private.as_ref())),
    ]);
    Ok((pem("CERTIFICATE", &cert), pem("PRIVATE KEY", &private)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn certificate_is_der_in_pem() {
        let (cert, key) = super::generate("user").unwrap();
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let long = super::tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
