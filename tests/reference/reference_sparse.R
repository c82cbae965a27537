# Reference numbers from R's survey package for sparse and degenerate tables
# (tests/test_reference_sparse.py; data made by tests/reference/make_sparse_data.py).
#
# Usage (from the project root): Rscript tests/reference/reference_sparse.R
# Needs: r-base-core, r-cran-survey, r-cran-mass (Debian). Writes tests/reference/sparse_results.csv
# in long form: dataset, scope, variable, analysis, term, value.
#
# Design: the project's reference design (docs/methods.md), over all municipalities (scope "all")
# or over one municipality's respondents alone (scope = its name), post-stratified on `stratum`.
# For every outcome y x group g:
#   raoscott_direct   svychisq on the data as they are; `error` = 1 where R stops
#   raoscott_dropped  svychisq after the project's drop: rows and columns of the table without weight
#                     among the complete cases are removed (y set to NA where g is missing and the
#                     other way round, so that no level exists outside the complete cases)
#   raoscott_ginv     svychisq's own formula on the dropped table with solve(denom, numr) replaced by
#                     MASS::ginv(denom, tol = 1e-10) %*% numr; `rank` and `rcond` (smallest over
#                     largest singular value) of denom
#   wald              regTermTest(svyglm(y ~ g), ~g); `error` = 1 where R stops
#   wald_ginv         beta' ginv(V_beta, tol = 1e-10) beta / rank on (rank, ddf of regTermTest), with
#                     `rank` and `outside` (largest absolute part of beta outside the range of V_beta)

suppressPackageStartupMessages({library(survey); library(MASS)})
options(survey.lonely.psu = "fail")

here <- "tests/reference"
tol <- 1e-10
out <- list()
add <- function(dataset, scope, variable, analysis, term, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, scope = scope, variable = variable,
                                         analysis = analysis, term = term,
                                         value = format(value, digits = 17), stringsAsFactors = FALSE)
}

make_design <- function(resp, pop) {
  d0 <- svydesign(ids = ~1, strata = ~kommune, weights = ~1, data = resp)
  postStratify(d0, ~stratum, pop)
}

# svychisq(~yf + gf, d, statistic = "F") with a generalized inverse (the lines of svychisq's
# Rao-Scott branch, survey 4.x, with solve() replaced)
rao_scott_ginv <- function(d) {
  rowvar <- na.omit(unique(d$variables$yf)); colvar <- na.omit(unique(d$variables$gf))
  nr <- length(rowvar); nc <- length(colvar)
  fsat <- ~interaction(factor(yf), factor(gf)) - 1
  mm <- model.matrix(fsat, model.frame(fsat, d$variables, na.action = na.pass))
  N <- nrow(mm)
  nu <- length(unique(d$cluster[, 1])) - length(unique(d$strata[, 1]))
  mf1 <- expand.grid(rows = 1:nr, cols = 1:nc)
  X1 <- model.matrix(~factor(rows) + factor(cols), mf1)
  X12 <- model.matrix(~factor(rows) * factor(cols), mf1)
  mean2 <- svymean(mm, d, na.rm = TRUE)
  Cmat <- qr.resid(qr(X1), X12[, -(1:(nr + nc - 1)), drop = FALSE])
  iDmat <- diag(ifelse(mean2 == 0, 0, 1 / mean2))
  V <- attr(mean2, "var")
  denom <- t(Cmat) %*% (iDmat / N) %*% Cmat
  numr <- t(Cmat) %*% iDmat %*% V %*% iDmat %*% Cmat
  s <- svd(denom)$d
  Delta <- ginv(denom, tol = tol) %*% numr
  d0 <- sum(diag(Delta))^2 / sum(diag(Delta %*% Delta))
  x2 <- suppressWarnings(chisq.test(svytable(~yf + gf, d, Ntotal = N), correct = FALSE))$statistic
  f <- x2 / sum(diag(Delta))
  list(F = f, ndf = d0, ddf = d0 * nu, p = pf(f, d0, d0 * nu, lower.tail = FALSE),
       rank = sum(s > tol * s[1]), rcond = min(s) / max(s))
}

cases <- list(sparse1 = c("y1", "y2", "y3", "y4", "y5", "y6"), sparse2 = c("y1"))
for (name in names(cases)) {
  resp <- read.csv(file.path(here, "data", paste0(name, "_respondents.csv")), stringsAsFactors = FALSE,
                   encoding = "UTF-8")
  pop <- read.csv(file.path(here, "data", paste0(name, "_population.csv")), stringsAsFactors = FALSE,
                  encoding = "UTF-8")
  resp$g[resp$g == ""] <- NA
  scopes <- c("all", sort(unique(resp$kommune)))
  if (length(unique(resp$kommune)) == 1) scopes <- "all"
  for (scope in scopes) {
    rs <- if (scope == "all") resp else resp[resp$kommune == scope, ]
    ps <- if (scope == "all") pop else pop[startsWith(pop$stratum, paste0(scope, "/")), ]
    for (q in cases[[name]]) {
      rs$yf <- factor(rs[[q]]); rs$gf <- factor(rs$g); rs$yv <- rs[[q]]
      d <- make_design(rs, ps)
      chi <- tryCatch(svychisq(~yf + gf, d, statistic = "F"), error = function(e) NULL)
      add(name, scope, q, "raoscott_direct", "error", as.numeric(is.null(chi)))
      # the project's drop: no level outside the complete cases
      rd <- rs
      rd$yf[is.na(rd$gf)] <- NA; rd$gf[is.na(rd$yf)] <- NA
      rd$yf <- droplevels(rd$yf); rd$gf <- droplevels(rd$gf)
      dd <- make_design(rd, ps)
      if (nlevels(rd$yf) >= 2 && nlevels(rd$gf) >= 2) {
        chi <- tryCatch(svychisq(~yf + gf, dd, statistic = "F"), error = function(e) NULL)
        add(name, scope, q, "raoscott_dropped", "error", as.numeric(is.null(chi)))
        if (!is.null(chi)) {
          add(name, scope, q, "raoscott_dropped", "F", chi$statistic)
          add(name, scope, q, "raoscott_dropped", "ndf", chi$parameter[["ndf"]])
          add(name, scope, q, "raoscott_dropped", "ddf", chi$parameter[["ddf"]])
          add(name, scope, q, "raoscott_dropped", "p", chi$p.value)
        }
        g <- rao_scott_ginv(dd)
        for (term in names(g)) add(name, scope, q, "raoscott_ginv", term, g[[term]])
      }
      add(name, scope, q, "levels", "rows", nlevels(rd$yf))
      add(name, scope, q, "levels", "cols", nlevels(rd$gf))
      # Wald test of the mean score across groups (complete cases of y and g)
      fit <- tryCatch(svyglm(yv ~ gf, d), error = function(e) NULL)
      rt <- if (is.null(fit)) NULL else tryCatch(regTermTest(fit, ~gf), error = function(e) NULL)
      add(name, scope, q, "wald", "error", as.numeric(is.null(rt)))
      if (!is.null(rt)) {
        add(name, scope, q, "wald", "F", rt$Ftest); add(name, scope, q, "wald", "df", rt$df)
        add(name, scope, q, "wald", "ddf", rt$ddf); add(name, scope, q, "wald", "p", rt$p)
      }
      if (!is.null(fit)) {
        b <- coef(fit)[-1]; V <- vcov(fit)[-1, -1, drop = FALSE]
        s <- svd(V)$d
        rank <- if (max(s) > 0) sum(s > tol * s[1]) else 0
        gi <- ginv(V, tol = tol)
        add(name, scope, q, "wald_ginv", "rank", rank)
        add(name, scope, q, "wald_ginv", "outside", max(abs(b - V %*% gi %*% b)))
        add(name, scope, q, "wald_ginv", "ddf", fit$df.residual)
        if (rank > 0) {
          f <- as.numeric(t(b) %*% gi %*% b) / rank
          add(name, scope, q, "wald_ginv", "F", f)
          add(name, scope, q, "wald_ginv", "p", pf(f, rank, fit$df.residual, lower.tail = FALSE))
        }
      }
    }
  }
}
res <- do.call(rbind, out)
write.csv(res, file.path(here, "sparse_results.csv"), row.names = FALSE, fileEncoding = "UTF-8")
cat("R", R.version.string, "survey", as.character(packageVersion("survey")),
    "MASS", as.character(packageVersion("MASS")), "\n")
