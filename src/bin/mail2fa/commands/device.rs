//! `mail2fa device …`: an account's device tokens listed, activated,
//! deactivated, deleted.

use std::io::Write;

use mail2fa::engine::{AccountId, DeviceId, format_utc};

use crate::cli::{AccountArgs, DeviceArgs, DeviceCommand};
use crate::context::Context;
use crate::failure::{Failure, NOT_FOUND, USAGE, about, fail};
use crate::output::{Json, Table, clean, print_json};
use crate::render::{account_json, name_of, state_name};

impl Context {
    /// The device a command names: its full id, or a prefix of 4 or more
    /// hex digits naming exactly one of the account's devices.
    fn device_of(&self, args: &DeviceArgs) -> Result<(AccountId, DeviceId), Failure> {
        let id = Self::id(&args.account)?;
        let wanted = args.device.trim().to_ascii_lowercase();
        if wanted.len() == 32 {
            return Ok((id, DeviceId::parse(&wanted)?));
        }
        if wanted.len() < 4 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail(
                USAGE,
                "a device is named by its id (32 hex digits) or its first 4 or more.",
            ));
        }
        let devices = self.engine.devices(&id, self.now).map_err(about(&id))?;
        let mut matching = devices
            .iter()
            .filter(|d| d.id.to_string().starts_with(&wanted));
        match (matching.next(), matching.next()) {
            (Some(device), None) => Ok((id.clone(), device.id)),
            (None, _) => Err(fail(
                NOT_FOUND,
                format!(
                    "{}: no device {wanted} (see `mail2fa device list`).",
                    name_of(&id)
                ),
            )),
            (Some(_), Some(_)) => Err(fail(
                USAGE,
                format!(
                    "{}: several devices start with {wanted}; give more digits.",
                    name_of(&id)
                ),
            )),
        }
    }

    pub(crate) fn device(&self, command: DeviceCommand) -> Result<(), Failure> {
        #[derive(Clone, Copy)]
        enum Action {
            Activate,
            Deactivate,
            Delete,
        }
        let (args, action) = match command {
            DeviceCommand::List(account) => return self.list_devices(&account),
            DeviceCommand::Activate(args) => (args, Action::Activate),
            DeviceCommand::Deactivate(args) => (args, Action::Deactivate),
            DeviceCommand::Delete(args) => (args, Action::Delete),
        };
        let (id, device) = self.device_of(&args)?;
        let now = self.now;
        let verb = match action {
            Action::Activate => "activated",
            Action::Deactivate => "deactivated",
            Action::Delete => "deleted",
        };
        match action {
            Action::Activate => self.engine.activate_device(&id, &device, now),
            Action::Deactivate => self.engine.deactivate_device(&id, &device, now),
            Action::Delete => {
                self.confirm(&format!(
                    "Delete device {device} of {}? Its next login is blocked as a new device.",
                    name_of(&id)
                ))?;
                self.engine.delete_device(&id, &device, now)
            }
        }
        .map_err(about(&id))?;
        self.report(
            &format!("Device {device} of {} {verb}.", name_of(&id)),
            || {
                account_json(
                    &id,
                    vec![
                        ("device", Json::text(&device.to_string())),
                        (verb, Json::Bool(true)),
                    ],
                )
            },
        )
    }

    fn list_devices(&self, account: &AccountArgs) -> Result<(), Failure> {
        let id = Self::id(account)?;
        let devices = self.engine.devices(&id, self.now).map_err(about(&id))?;
        if self.json {
            let list = devices
                .iter()
                .map(|d| {
                    Json::Object(vec![
                        ("id", Json::text(&d.id.to_string())),
                        ("state", Json::text(state_name(d.state))),
                        ("protocol", Json::text(d.protocol.name())),
                        ("device_id", Json::opt_text(d.device_id.as_deref())),
                        ("device_type", Json::opt_text(d.device_type.as_deref())),
                        ("user_agent", Json::opt_text(d.user_agent.as_deref())),
                        ("remote_addr", Json::opt_text(d.remote_addr.as_deref())),
                        ("first_seen", Json::Number(d.first_seen)),
                        ("last_seen", Json::Number(d.last_seen)),
                        ("notified_at", Json::opt_number(d.notified_at)),
                    ])
                })
                .collect();
            return Ok(print_json(&account_json(
                &id,
                vec![("devices", Json::List(list))],
            ))?);
        }
        if devices.is_empty() {
            return self.report(&format!("{} has no device tokens.", name_of(&id)), || {
                Json::Null
            });
        }
        let mut table = Table::new(&[
            "DEVICE",
            "STATE",
            "PROTOCOL",
            "TYPE",
            "USER AGENT",
            "ADDRESS",
            "FIRST SEEN",
            "LAST SEEN",
        ]);
        for d in &devices {
            let short = |t: u64| format_utc(t).get(..16).unwrap_or_default().to_owned();
            table.row(vec![
                d.id.to_string().get(..12).unwrap_or_default().to_owned(),
                state_name(d.state).to_ascii_uppercase(),
                d.protocol.name().to_owned(),
                clean(d.device_type.as_deref().unwrap_or("-"), 24),
                clean(d.user_agent.as_deref().unwrap_or("-"), 40),
                clean(d.remote_addr.as_deref().unwrap_or("-"), 40),
                short(d.first_seen),
                short(d.last_seen),
            ]);
        }
        let style = self.style;
        let out = table.render(style, |column, cell| match (column, cell.trim_end()) {
            (1, "ACTIVE") => style.good(cell),
            (1, _) => style.warn(cell),
            _ => cell.to_owned(),
        });
        Ok(std::io::stdout().lock().write_all(out.as_bytes())?)
    }
}
