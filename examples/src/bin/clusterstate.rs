//! Prints the cluster as the local node sees it: this node's id, the members and whether the
//! partition is quorate, all obtained through the `corosync` crate.
//!
//! It uses three libraries: `cfg` for the local node id, `quorum` for the members and the
//! quorate flag (a one-shot `trackstart(CURRENT)` answered by dispatch), and
//! `votequorum` for the votes.

use std::process::ExitCode;

use corosync::cfg::Cfg;
use corosync::quorum::Quorum;
use corosync::votequorum::Votequorum;
use corosync::{DispatchMode, NodeId, TrackFlags};
use corosync_examples::main_skeleton::run_main;

fn main() -> ExitCode {
    run_main(
        "clusterstate",
        || -> Result<(), Box<dyn std::error::Error>> {
            // No options but --help; anything else is an error.
            let mut parser = lexopt::Parser::from_env();
            if let Some(arg) = parser.next()? {
                match arg {
                    lexopt::Arg::Short('h') | lexopt::Arg::Long("help") => {
                        println!("usage: clusterstate");
                        return Ok(());
                    }
                    _ => return Err(arg.unexpected().into()),
                }
            }
            run()
        },
    )
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let local = Cfg::new()?.local_node_id()?;

    let (sender, receiver) = std::sync::mpsc::channel::<(bool, Vec<NodeId>)>();
    let quorum = Quorum::builder()
        .on_quorum(move |_, notification| {
            // One small copy for the program's own use; the crate lends a borrowed slice.
            let _ = sender.send((notification.is_quorate(), notification.members().to_vec()));
        })
        .build()?;
    quorum.track_start(TrackFlags::CURRENT)?;
    // The daemon answers with a node-list and a quorum notification: take events until the
    // quorum one has come (a handful at most).
    let mut answer = None;
    for _ in 0..8 {
        quorum.dispatch(DispatchMode::One)?;
        if let Ok(received) = receiver.try_recv() {
            answer = Some(received);
            break;
        }
    }
    let (quorate, members) =
        answer.ok_or("the quorum library sent no quorum notification after trackstart")?;

    let info = Votequorum::new()?.info(None)?;

    println!("node id:  {local}");
    println!("members:  {}", NodeId::display_list(&members));
    println!("quorate:  {}", if quorate { "yes" } else { "no" });
    println!(
        "votes:    {} total, {} expected, quorum {}",
        info.total_votes, info.node_expected_votes, info.quorum
    );
    Ok(())
}
