//! Passphrases for encrypted private keys and PINs for PKCS#11 tokens: from the
//! `SEQPROV_PASSPHRASE` / `SEQPROV_PKCS11_PIN` environment variables (pipelines), else
//! asked on the terminal without echo.

use std::io::IsTerminal;

use zeroize::Zeroizing;

/// The environment variable a pipeline sets to give the passphrase.
pub const PASSPHRASE_VARIABLE: &str = "SEQPROV_PASSPHRASE";

/// The passphrase to open `key_name`.
pub fn for_opening(key_name: &str) -> Result<Zeroizing<String>, String> {
    if let Some(value) = std::env::var_os(PASSPHRASE_VARIABLE) {
        return value
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| format!("{PASSPHRASE_VARIABLE} is not valid UTF-8"));
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "the key is passphrase-encrypted: set {PASSPHRASE_VARIABLE} or run on a terminal"
        ));
    }
    rpassword::prompt_password(format!(
        "Passphrase for {}: ",
        crate::terminal_text::terminal_safe(key_name)
    ))
    .map(Zeroizing::new)
    .map_err(|e| format!("reading the passphrase: {e}"))
}

/// The environment variable a pipeline sets to give a PKCS#11 token's user PIN.
pub const PIN_VARIABLE: &str = "SEQPROV_PKCS11_PIN";

/// The user PIN of the token labelled `token_label`: `SEQPROV_PKCS11_PIN`, else asked on
/// the terminal without echo. Never a command-line argument.
pub fn for_token(token_label: &str) -> Result<Zeroizing<String>, String> {
    if let Some(value) = std::env::var_os(PIN_VARIABLE) {
        return value
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| format!("{PIN_VARIABLE} is not valid UTF-8"));
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "the token needs its user PIN: set {PIN_VARIABLE} or run on a terminal"
        ));
    }
    rpassword::prompt_password(format!(
        "PIN for token {}: ",
        crate::terminal_text::terminal_safe(token_label)
    ))
    .map(Zeroizing::new)
    .map_err(|e| format!("reading the PIN: {e}"))
}

/// A new passphrase (asked twice on a terminal), for `keygen --encrypt`.
pub fn for_new_key() -> Result<Zeroizing<String>, String> {
    let passphrase = if let Some(value) = std::env::var_os(PASSPHRASE_VARIABLE) {
        Zeroizing::new(
            value
                .into_string()
                .map_err(|_| format!("{PASSPHRASE_VARIABLE} is not valid UTF-8"))?,
        )
    } else if std::io::stdin().is_terminal() {
        let first = Zeroizing::new(
            rpassword::prompt_password("New passphrase: ").map_err(|e| e.to_string())?,
        );
        let second = Zeroizing::new(
            rpassword::prompt_password("Repeat the passphrase: ").map_err(|e| e.to_string())?,
        );
        if *first != *second {
            return Err("the two passphrases differ".into());
        }
        first
    } else {
        return Err(format!(
            "--encrypt needs a passphrase: set {PASSPHRASE_VARIABLE} or run on a terminal"
        ));
    };
    if passphrase.chars().count() < 8 {
        return Err("the passphrase must have at least 8 characters".into());
    }
    Ok(passphrase)
}
