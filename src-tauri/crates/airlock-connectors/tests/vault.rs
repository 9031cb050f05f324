//! Connection secrets in the Linux kernel keyring (keyutils), the vault's headless fallback.
#![cfg(target_os = "linux")]

use airlock_connectors::vault::{Backend, Secret, Vault, VaultError};

fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

#[test]
fn a_secret_round_trips_through_the_kernel_keyring_and_is_gone_after_removal() {
    let vault = Vault::with_backends(vec![Backend::KernelKeyring]);
    let name = unique("mes-line3");
    assert!(matches!(vault.fetch(&name), Err(VaultError::NotFound(_))));
    let stored = vault
        .store(&name, &Secret::new("odbc-pw-1".to_owned()))
        .expect("keyutils works here");
    assert_eq!(stored, Backend::KernelKeyring);
    let (secret, from) = vault.fetch(&name).unwrap();
    assert_eq!(
        (secret.expose(), from),
        ("odbc-pw-1", Backend::KernelKeyring)
    );

    vault
        .store(&name, &Secret::new("odbc-pw-2".to_owned()))
        .unwrap();
    assert_eq!(
        vault.fetch(&name).unwrap().0.expose(),
        "odbc-pw-2",
        "replaced"
    );

    assert_eq!(vault.remove(&name).unwrap(), [Backend::KernelKeyring]);
    assert!(matches!(vault.fetch(&name), Err(VaultError::NotFound(_))));
    assert!(vault.remove(&name).unwrap().is_empty());
}

#[test]
fn without_a_secret_service_the_default_vault_falls_back_to_the_kernel_keyring() {
    // No session bus here (the address points nowhere), as on a headless server.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let vault = Vault::default();
    let name = unique("sap-qa");
    let stored = vault.store(&name, &Secret::new("pw".to_owned())).unwrap();
    assert_eq!(stored, Backend::KernelKeyring);
    assert_eq!(vault.fetch(&name).unwrap().1, Backend::KernelKeyring);
    vault.remove(&name).unwrap();
}
