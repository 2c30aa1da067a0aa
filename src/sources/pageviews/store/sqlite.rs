//! The page-views read model on SQLite: views read by (site, time) for the statistics,
//! by (site, article) for live counters and by (site, visitor) for the visit check.

use std::collections::BTreeMap;

use async_trait::async_trait;
use rusqlite::{params, Connection, Row};

use super::{rollups, ArticleCounts, Change, PageviewStore};
use crate::sources::pageviews::stats::{self, Bucket, Summary, View, ViewQuery, DIRECT};
use crate::store::sqlite::SqliteStore;
use crate::store::StoreError;

fn view(r: &Row<'_>) -> rusqlite::Result<View> {
    Ok(View {
        seq: r.get(0)?,
        ts_ms: r.get(1)?,
        path: r.get(2)?,
        referrer: r.get(3)?,
        source: r.get(4)?,
        entry: r.get(5)?,
        unique: r.get(6)?,
        visitor: r.get(7)?,
    })
}

pub(super) fn views(c: &Connection, q: &ViewQuery) -> Result<Vec<View>, StoreError> {
    let referrer = q.filter.referrer.as_deref();
    let mut stmt = c.prepare_cached(
        "SELECT seq, ts_ms, path, referrer, ref_source, entry, is_unique, visitor
         FROM pageviews
         WHERE site = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 AND name = 'pageview'
           AND (?4 IS NULL OR path = ?4)
           AND (?5 IS NULL OR (?5 = ?7 AND referrer IS NULL) OR referrer = ?5)
           AND (?6 IS NULL OR ref_source = ?6)
           AND (?8 IS NULL OR (via = 'log') = ?8)
         ORDER BY ts_ms, seq",
    )?;
    let rows = stmt
        .query_map(
            params![
                q.site,
                q.from_ms,
                q.to_ms,
                q.filter.page,
                referrer,
                q.filter.source,
                DIRECT,
                q.filter.origin.map(|o| o == stats::Origin::Log),
            ],
            view,
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[async_trait]
impl PageviewStore for SqliteStore {
    async fn views(&self, query: &ViewQuery) -> Result<Vec<View>, StoreError> {
        let query = query.clone();
        self.with_reader(move |c| views(c, &query)).await
    }

    async fn summary(
        &self,
        query: &ViewQuery,
        bucket: Bucket,
        labels: Vec<String>,
        top: usize,
        now_ms: i64,
    ) -> Result<Summary, StoreError> {
        let rolled = rollups::summary(self, query, bucket, labels.clone(), top, now_ms).await?;
        match rolled {
            Some(summary) => Ok(summary),
            None => {
                let views = PageviewStore::views(self, query).await?;
                Ok(stats::summarize(&views, bucket, labels, top))
            }
        }
    }

    async fn drops(
        &self,
        site: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<BTreeMap<String, u64>, StoreError> {
        let site = site.to_owned();
        self.with_reader(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT reason, COUNT(*) FROM pageview_drops
                 WHERE site = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 GROUP BY reason",
            )?;
            let rows = stmt
                .query_map(params![site, from_ms, to_ms], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn article_counts(&self, site: &str, article: &str) -> Result<ArticleCounts, StoreError> {
        let (site, article) = (site.to_owned(), article.to_owned());
        self.with_reader(move |c| {
            let counts = c
                .prepare_cached(
                    "SELECT COUNT(*), COALESCE(SUM(is_unique), 0) FROM pageviews
                     WHERE site = ?1 AND article = ?2 AND name = 'pageview'",
                )?
                .query_row(params![site, article], |r| {
                    Ok(ArticleCounts {
                        views: r.get::<_, i64>(0)? as u64,
                        uniques: r.get::<_, i64>(1)? as u64,
                    })
                })?;
            Ok(counts)
        })
        .await
    }

    async fn views_after(&self, seq: i64, limit: usize) -> Result<Vec<Change>, StoreError> {
        self.with_reader(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, site, article FROM pageviews
                 WHERE seq > ?1 AND name = 'pageview' ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![seq, limit as i64], |r| {
                    Ok(Change {
                        seq: r.get(0)?,
                        site: r.get(1)?,
                        article: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn last_view_seq(&self) -> Result<i64, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(
                "SELECT COALESCE(MAX(seq), 0) FROM pageviews WHERE name = 'pageview'",
            )?
            .query_row([], |r| r.get(0))?)
        })
        .await
    }

    async fn visitor_seen(
        &self,
        site: &str,
        visitor: &str,
        since_ms: i64,
    ) -> Result<bool, StoreError> {
        let (site, visitor) = (site.to_owned(), visitor.to_owned());
        self.with_reader(move |c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM pageviews
                 WHERE site = ?1 AND visitor = ?2 AND ts_ms >= ?3)",
            )?
            .query_row(params![site, visitor, since_ms], |r| r.get(0))?)
        })
        .await
    }
}
