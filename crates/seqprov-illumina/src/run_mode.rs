//! Run mode: the signer's claim that a run is clinical (Dx) or research use only (RUO),
//! and what the run parameters file says in support of or against that claim.
//!
//! The claim is an attestation by the signer; the instrument software name is only
//! corroboration. Dual-boot instruments run different software in each mode: Illumina
//! calls the diagnostic-mode software "Operating Software" (MiSeq Operating Software,
//! NextSeq 550Dx Operating Software, NovaSeq 6000Dx Operating Software) and the research
//! software "Control Software" (MiSeq, HiSeq, NextSeq, NovaSeq and NovaSeq X Control
//! Software; NovaSeq X writes `control-software`). The rule, in order:
//!
//! 1. the name contains `Control Software` or `control-software` → RUO;
//! 2. the name contains `Operating Software`, or a word ending in `Dx` (`550Dx`,
//!    `MiSeqDx`), or the word `Dx` → clinical;
//! 3. otherwise (or no run parameters file) → nothing is indicated.
//!
//! Rule 1 wins over rule 2 because a Dx instrument booted into research mode runs the
//! research control software while its model name may still carry `Dx`.

use serde::{Deserialize, Serialize};

pub use seqprov_format::run_record::RunMode;

use seqprov_format::run_record::RunMetadata;

/// What the run parameters say about clinical or research mode; empty evidence when
/// there is no run parameters file.
pub fn evidence_of(meta: &RunMetadata) -> RunModeEvidence {
    let software = meta
        .run_parameters
        .as_ref()
        .and_then(|p| p.application_name.as_deref());
    evidence_from_software(software)
}

/// What the run parameters file says about the run mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunModeEvidence {
    /// The software name the file records, verbatim.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub software: Option<String>,
    /// The mode that name indicates under the rule of this module, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub indicates: Option<RunMode>,
}

/// Whether the evidence supports a claimed mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Corroboration {
    /// The software name indicates the claimed mode.
    Agrees,
    /// The software name indicates the other mode; the text says why.
    Disagrees(String),
    /// Nothing in the run parameters indicates a mode.
    Unknown,
}

impl RunModeEvidence {
    /// Compare the evidence with the signer's claim.
    pub fn corroborates(&self, claim: RunMode) -> Corroboration {
        match self.indicates {
            None => Corroboration::Unknown,
            Some(mode) if mode == claim => Corroboration::Agrees,
            Some(mode) => Corroboration::Disagrees(format!(
                "the run was claimed `{}` but the run parameters name the software `{}`, \
                 which is the {} software",
                claim.name(),
                self.software.as_deref().unwrap_or(""),
                match mode {
                    RunMode::Clinical => "diagnostic-mode (Dx)",
                    RunMode::Ruo => "research-mode (RUO)",
                }
            )),
        }
    }
}

/// Apply the rule of this module to a software name.
pub fn evidence_from_software(software: Option<&str>) -> RunModeEvidence {
    let indicates = software.and_then(indicated_mode);
    RunModeEvidence {
        software: software.map(str::to_string),
        indicates,
    }
}

fn indicated_mode(name: &str) -> Option<RunMode> {
    let lower = name.to_ascii_lowercase();
    if lower.contains("control software") || lower.contains("control-software") {
        return Some(RunMode::Ruo);
    }
    let dx_word = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word.ends_with("Dx") || word.eq_ignore_ascii_case("dx"));
    if lower.contains("operating software") || dx_word {
        return Some(RunMode::Clinical);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicates(name: &str) -> Option<RunMode> {
        evidence_from_software(Some(name)).indicates
    }

    #[test]
    fn names_in_the_wild_map_to_modes() {
        assert_eq!(indicates("MiSeq Control Software"), Some(RunMode::Ruo));
        assert_eq!(indicates("HiSeq Control Software"), Some(RunMode::Ruo));
        assert_eq!(indicates("NovaSeq Control Software"), Some(RunMode::Ruo));
        assert_eq!(indicates("control-software"), Some(RunMode::Ruo));
        assert_eq!(
            indicates("NovaSeqXSeries Control Software"),
            Some(RunMode::Ruo)
        );
        assert_eq!(
            indicates("MiSeq Operating Software"),
            Some(RunMode::Clinical)
        );
        assert_eq!(
            indicates("NextSeq 550Dx Operating Software"),
            Some(RunMode::Clinical)
        );
        assert_eq!(indicates("NovaSeq 6000Dx"), Some(RunMode::Clinical));
        assert_eq!(
            indicates("NextSeq 550Dx Control Software"),
            Some(RunMode::Ruo)
        );
        assert_eq!(indicates("Local Run Manager"), None);
        assert_eq!(indicates("Dxtra Suite"), None);
    }

    #[test]
    fn corroboration_compares_claim_and_evidence() {
        let ruo = evidence_from_software(Some("NovaSeq Control Software"));
        assert_eq!(ruo.corroborates(RunMode::Ruo), Corroboration::Agrees);
        match ruo.corroborates(RunMode::Clinical) {
            Corroboration::Disagrees(why) => {
                assert!(why.contains("NovaSeq Control Software"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        let none = evidence_from_software(None);
        assert_eq!(none.corroborates(RunMode::Clinical), Corroboration::Unknown);
        assert_eq!("clinical".parse::<RunMode>(), Ok(RunMode::Clinical));
        assert!("dx".parse::<RunMode>().is_err());
    }
}
