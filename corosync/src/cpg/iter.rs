//! Iteration over groups and their members (`cpg_iteration_*`).

use std::fmt;
use std::iter::FusedIterator;

use corosync_sys as sys;

use super::{Cpg, CpgLib, GroupName};
use crate::error::cs_result;
use crate::handle::with_library_lock;
use crate::{Error, NodeId, Result};

/// One entry of an [`Iteration`]: a group and, except for [`Cpg::iter_groups`], one of its
/// members (C's `cpg_iteration_description_t`, copied out of the reply without allocating).
///
/// ```no_run
/// let cpg = corosync::cpg::Cpg::new()?;
/// for entry in cpg.iter_all()? {
///     let entry = entry?;
///     println!("{} node {} pid {}", entry.group(), entry.node_id(), entry.pid());
/// }
/// # Ok::<(), corosync::Error>(())
/// ```
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct GroupMember(sys::cpg_iteration_description_t);

impl GroupMember {
    /// The group.
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::new()?;
    /// for entry in cpg.iter_groups()? {
    ///     println!("{}", entry?.group());
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn group(&self) -> &GroupName {
        GroupName::from_raw(&self.0.group)
    }

    /// The member's node (0 for [`Cpg::iter_groups`]).
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::new()?;
    /// for entry in cpg.iter_all()? {
    ///     println!("{}", entry?.node_id());
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn node_id(&self) -> NodeId {
        NodeId::from(self.0.nodeid)
    }

    /// The member's pid (0 for [`Cpg::iter_groups`]).
    ///
    /// ```no_run
    /// # let cpg = corosync::cpg::Cpg::new()?;
    /// for entry in cpg.iter_all()? {
    ///     println!("{}", entry?.pid());
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn pid(&self) -> u32 {
        self.0.pid
    }
}

impl PartialEq for GroupMember {
    fn eq(&self, other: &GroupMember) -> bool {
        (self.group(), self.0.nodeid, self.0.pid) == (other.group(), other.0.nodeid, other.0.pid)
    }
}

impl Eq for GroupMember {}

impl fmt::Debug for GroupMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupMember")
            .field("group", self.group())
            .field("node_id", &self.0.nodeid)
            .field("pid", &self.0.pid)
            .finish()
    }
}

/// An iteration over the daemon's groups or members, from [`Cpg::iter_groups`],
/// [`Cpg::iter_group_members`] or [`Cpg::iter_all`]. Each `next` asks the daemon for one
/// entry; the iteration ends after the last one (`CS_ERR_NO_SECTIONS`), or after yielding an
/// error. It is finalized (`cpg_iteration_finalize`) on drop, and borrows its handle.
///
/// ```no_run
/// let cpg = corosync::cpg::Cpg::new()?;
/// let groups: Vec<_> = cpg.iter_groups()?.collect::<Result<_, _>>()?;
/// println!("{} groups", groups.len());
/// # Ok::<(), corosync::Error>(())
/// ```
pub struct Iteration<'a> {
    _cpg: &'a Cpg,
    raw: sys::cpg_iteration_handle_t,
    done: bool,
}

impl Cpg {
    fn iteration(
        &self,
        kind: sys::cpg_iteration_type_t,
        group: Option<&GroupName>,
    ) -> Result<Iteration<'_>> {
        let mut raw: sys::cpg_iteration_handle_t = 0;
        let group_ptr = group.map_or(std::ptr::null(), |g| g.as_raw() as *const sys::cpg_name);
        // Creates an entry in libcpg's iteration handle database (see with_library_lock).
        let result = with_library_lock::<CpgLib, _>(|| {
            // SAFETY: the handle is live, `group_ptr` is null or a valid name for the call,
            // and `raw` is writable.
            let code =
                unsafe { sys::cpg_iteration_initialize(self.raw(), kind, group_ptr, &mut raw) };
            let result = cs_result(code);
            if result.is_err() && raw != 0 {
                // libcpg keeps the iteration registered when the daemon refused it; release
                // it (an unknown handle is refused harmlessly).
                // SAFETY: `raw` is an iteration handle of this library or unknown to it.
                let _ = unsafe { sys::cpg_iteration_finalize(raw) };
            }
            result
        });
        result?;
        Ok(Iteration {
            _cpg: self,
            raw,
            done: false,
        })
    }

    /// Every group the daemon knows, once each (`CPG_ITERATION_NAME_ONLY`).
    ///
    /// # Errors
    /// A C error if the daemon refuses.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::new()?;
    /// for entry in cpg.iter_groups()? {
    ///     println!("{}", entry?.group());
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_iteration_initialize")]
    pub fn iter_groups(&self) -> Result<Iteration<'_>> {
        self.iteration(sys::CPG_ITERATION_NAME_ONLY, None)
    }

    /// The members of one group (`CPG_ITERATION_ONE_GROUP`).
    ///
    /// # Errors
    /// A C error if the daemon refuses.
    ///
    /// ```no_run
    /// use corosync::cpg::{Cpg, GroupName};
    /// let cpg = Cpg::new()?;
    /// for entry in cpg.iter_group_members(&GroupName::new("demo")?)? {
    ///     let entry = entry?;
    ///     println!("node {} pid {}", entry.node_id(), entry.pid());
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    pub fn iter_group_members(&self, group: &GroupName) -> Result<Iteration<'_>> {
        self.iteration(sys::CPG_ITERATION_ONE_GROUP, Some(group))
    }

    /// Every member of every group, group by group (`CPG_ITERATION_ALL`).
    ///
    /// # Errors
    /// A C error if the daemon refuses.
    ///
    /// ```no_run
    /// let cpg = corosync::cpg::Cpg::new()?;
    /// for entry in cpg.iter_all()? {
    ///     let entry = entry?;
    ///     println!("{}: node {} pid {}", entry.group(), entry.node_id(), entry.pid());
    /// }
    /// # Ok::<(), corosync::Error>(())
    /// ```
    #[doc(alias = "cpg_iteration_next")]
    pub fn iter_all(&self) -> Result<Iteration<'_>> {
        self.iteration(sys::CPG_ITERATION_ALL, None)
    }
}

impl Iterator for Iteration<'_> {
    type Item = Result<GroupMember>;

    fn next(&mut self) -> Option<Result<GroupMember>> {
        if self.done {
            return None;
        }
        let mut description = sys::cpg_iteration_description_t::default();
        // SAFETY: the iteration handle is live (finalized only on drop) and `description`
        // is writable.
        let code = unsafe { sys::cpg_iteration_next(self.raw, &mut description) };
        match cs_result(code) {
            Ok(()) => Some(Ok(GroupMember(description))),
            Err(Error::NoSections) => {
                self.done = true;
                None
            }
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }
}

impl FusedIterator for Iteration<'_> {}

impl Drop for Iteration<'_> {
    fn drop(&mut self) {
        // An error means the connection is gone; libcpg frees its side with the handle.
        let _ = with_library_lock::<CpgLib, _>(|| {
            // SAFETY: the iteration handle is live and finalized once.
            unsafe { sys::cpg_iteration_finalize(self.raw) }
        });
    }
}

impl fmt::Debug for Iteration<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iteration")
            .field("handle", &self.raw)
            .field("done", &self.done)
            .finish()
    }
}
