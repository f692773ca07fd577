//! Every command but `report`: one call of the library each, its result as a [`Dataset`].

use defender_tvm::{
    Client, SoftwareQuery,
    types::{SoftwareField, SoftwareFilter},
};

use crate::args::SoftwareCommand;
use crate::datasets::{self, Dataset};
use crate::error::CliError;

/// `missing-kbs SOFTWARE_ID`.
pub async fn missing_kbs(client: &Client, software_id: &str) -> Result<Dataset, CliError> {
    Ok(datasets::missing_kbs(
        format!("Missing KBs of {software_id}"),
        client.missing_kbs(software_id).await?,
    ))
}

/// `machine-missing-kbs MACHINE_ID`.
pub async fn machine_missing_kbs(client: &Client, machine_id: &str) -> Result<Dataset, CliError> {
    Ok(datasets::missing_kbs(
        format!("Missing KBs of device {machine_id}"),
        client.machine_missing_kbs(machine_id).await?,
    ))
}

/// `software list|get|vulnerabilities|machines|distributions`.
pub async fn software(client: &Client, command: &SoftwareCommand) -> Result<Dataset, CliError> {
    Ok(match command {
        SoftwareCommand::List { vendor, name, top } => {
            let filters = [
                vendor
                    .as_deref()
                    .map(|v| SoftwareFilter::eq(SoftwareField::Vendor, v)),
                name.as_deref()
                    .map(|n| SoftwareFilter::eq(SoftwareField::Name, n)),
            ];
            let mut query = SoftwareQuery::new();
            if let Some(filter) = filters.into_iter().flatten().reduce(SoftwareFilter::and) {
                query = query.filter(filter);
            }
            if let Some(top) = top {
                query = query.top(*top);
            }
            datasets::software("Software inventory".into(), client.software(query).await?)
        }
        SoftwareCommand::Get { software_id } => datasets::software(
            format!("Software {software_id}"),
            vec![client.software_by_id(software_id).await?],
        ),
        SoftwareCommand::Vulnerabilities { software_id } => datasets::vulnerabilities(
            format!("Vulnerabilities of {software_id}"),
            client.software_vulnerabilities(software_id).await?,
        ),
        SoftwareCommand::Machines { software_id } => datasets::machines(
            format!("Devices with {software_id}"),
            client.software_machines(software_id).await?,
        ),
        SoftwareCommand::Distributions { software_id } => datasets::distributions(
            format!("Versions of {software_id}"),
            client.software_distributions(software_id).await?,
        ),
    })
}
